// Add bytecode for Pyodide's Python to archives of Python modules, so that a browser tab imports them without
// compiling them first.
//
//   node pycompile.mjs PYODIDE_DIR IN_DIR OUT_DIR ARCHIVE_NAME...
//
// Run by scripts/build_lite.py. Each IN_DIR/ARCHIVE_NAME is copied to OUT_DIR/ARCHIVE_NAME with an unchecked
// hash-based .pyc (PEP 552), made by Pyodide's own Python, for every module: the browser uses it without comparing
// it to the source (unpacked or zipped files have no meaningful mtimes). The .py stays, for tracebacks and
// inspect.getsource (Exercise.solution() shows a reference answer's source).
//
// - A wheel (it has a .dist-info/RECORD) is unpacked into site-packages, where Python looks for bytecode in
//   __pycache__/: each .pyc goes there, and into the RECORD.
// - Any other archive is Pyodide's standard library, which Python imports from the zip file itself (zipimport):
//   zipimport looks for X.pyc beside X.py. Its bytecode names the module's path inside the mounted zip, as the
//   source's would, so that tracebacks show the same file names.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, inDir, outDir, ...names] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(resolve(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: resolve(pyodideDir) + "/" });
pyodide.mountNodeFS("/archives-in", resolve(inDir));
pyodide.mountNodeFS("/archives-out", resolve(outDir));
pyodide.globals.set("NAMES", pyodide.toPy(names));
pyodide.runPython(`
import base64, hashlib, importlib.util, sys, warnings, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

warnings.simplefilter("ignore")  # SyntaxWarnings in packages' own tests are theirs, not ours
tag = importlib.util.cache_from_source("m.py").rsplit("/", 1)[1].split(".")[1]  # e.g. cpython-314
stdlib_zip = next(path for path in sys.path if path.endswith(".zip"))  # where Pyodide mounts its standard library


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def bytecode(data, filename):
    try:
        code = compile(data, filename, "exec", dont_inherit=True)
    except SyntaxError:
        return None  # Python 2 leftovers in some packages: never imported
    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False))


def wheel_pyc_path(filename):
    folder, _, module = filename.rpartition("/")
    return f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc" if folder else f"__pycache__/{module[:-3]}.{tag}.pyc"


for name in NAMES:
    with zipfile.ZipFile("/archives-in/" + name) as source:
        record_name = next((entry for entry in source.namelist() if entry.endswith(".dist-info/RECORD")), None)
        record = source.read(record_name).decode().splitlines() if record_name else []
        present = set(source.namelist())
        with zipfile.ZipFile("/archives-out/" + name, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename == record_name:
                    continue
                data = source.read(info)
                target.writestr(info, data)
                if not info.filename.endswith(".py") or "/__pycache__/" in info.filename:
                    continue
                if record_name:
                    pyc = bytecode(data, info.filename)
                    path = wheel_pyc_path(info.filename)
                else:
                    pyc = bytecode(data, f"{stdlib_zip}/{info.filename}")
                    path = info.filename + "c"
                if pyc is None or path in present:
                    continue
                target.writestr(path, pyc)
                if record_name:
                    record.append(record_line(path, pyc))
            if record_name:
                target.writestr(record_name, "\\n".join(record) + "\\n")
`);
