// Add bytecode for Pyodide's Python to pure-Python wheels, so that a browser tab imports them without compiling.
//
//   node pycompile_wheels.mjs PYODIDE_DIR IN_DIR OUT_DIR WHEEL_NAME...
//
// Run by scripts/build_lite.py. Each IN_DIR/WHEEL_NAME is copied to OUT_DIR/WHEEL_NAME with, next to every
// module, an unchecked hash-based .pyc (PEP 552) made by Pyodide's own Python: the browser uses it without
// comparing it to the source (a wheel's unpacked files have no meaningful mtimes), and the .py stays for
// tracebacks and inspect.getsource (Exercise.solution() shows a reference answer's source).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, inDir, outDir, ...names] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(resolve(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: resolve(pyodideDir) + "/" });
pyodide.mountNodeFS("/wheels-in", resolve(inDir));
pyodide.mountNodeFS("/wheels-out", resolve(outDir));
pyodide.globals.set("NAMES", pyodide.toPy(names));
pyodide.runPython(`
import base64, hashlib, importlib.util, warnings, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

warnings.simplefilter("ignore")  # SyntaxWarnings in packages' own tests are theirs, not ours
tag = importlib.util.cache_from_source("m.py").rsplit("/", 1)[1].split(".")[1]  # e.g. cpython-314


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


for name in NAMES:
    with zipfile.ZipFile("/wheels-in/" + name) as source:
        record_name = next(entry for entry in source.namelist() if entry.endswith(".dist-info/RECORD"))
        record = source.read(record_name).decode().splitlines()
        with zipfile.ZipFile("/wheels-out/" + name, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if info.filename == record_name:
                    continue
                data = source.read(info)
                target.writestr(info, data)
                if not info.filename.endswith(".py") or "/__pycache__/" in info.filename:
                    continue
                try:
                    code = compile(data, info.filename, "exec", dont_inherit=True)
                except SyntaxError:
                    continue  # Python 2 leftovers in some packages: never imported
                pyc = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False))
                folder, _, module = info.filename.rpartition("/")
                path = f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc" if folder else f"__pycache__/{module[:-3]}.{tag}.pyc"
                target.writestr(path, pyc)
                record.append(record_line(path, pyc))
            target.writestr(record_name, "\\n".join(record) + "\\n")
`);
