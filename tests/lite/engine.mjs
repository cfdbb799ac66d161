// Run a Python script under real Pyodide in Node, set up as a JupyterLite browser tab would be.
//
//   node engine.mjs PYODIDE_DIR SCRIPT.py WHEEL... [-- ARG...]
//
// PYODIDE_DIR holds the npm package `pyodide` (the core runtime only: no micropip, no pandas). Each WHEEL is
// unpacked into site-packages with unpackArchive. As in a browser: a listening socket fails with errno 138
// (in Node it would abort the whole runtime instead), and fcntl is an empty module, as the JupyterLite kernel
// makes it. The script runs as __main__ with sys.argv = [SCRIPT, ARG...]; its output goes to stdout/stderr.
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, script, ...rest] = process.argv.slice(2);
const split = rest.indexOf("--");
const wheels = split < 0 ? rest : rest.slice(0, split);
const args = split < 0 ? [] : rest.slice(split + 1);

const { loadPyodide } = await import(pathToFileURL(resolve(pyodideDir, "pyodide.mjs")).href);
const started = Date.now();
const pyodide = await loadPyodide({
  indexURL: resolve(pyodideDir) + "/",
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
for (const wheel of wheels) {
  pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: sitePackages });
}
pyodide.runPython(`
import errno, os, socket, sys, types

# JupyterLite's kernel replaces fcntl with an empty module (no flock in a browser): do the same.
sys.modules["fcntl"] = types.ModuleType("fcntl")

# A browser tab cannot listen: Emscripten's socket calls fail with errno 138 there, where Node would abort.
def _cannot_listen(self, *args):
    raise OSError(138, "Operation not supported (a browser tab cannot listen on a socket)")

socket.socket.listen = _cannot_listen
os.environ.setdefault("HOME", "/home/pyodide")
`);
process.stderr.write(`[engine] Pyodide ${pyodide.version} ready with ${wheels.length} wheels in ${Date.now() - started} ms\n`);
pyodide.globals.set("ENGINE_ARGS", pyodide.toPy([basename(script), ...args]));
pyodide.runPython("import sys; sys.argv = list(ENGINE_ARGS); del ENGINE_ARGS");
try {
  await pyodide.runPythonAsync(readFileSync(script, "utf8"), { filename: resolve(script) });
} catch (error) {
  process.stderr.write(String(error.message || error) + "\n");
  process.exit(1);
}
