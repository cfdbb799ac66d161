// The site's Pyodide loader. The JupyterLite kernel imports it (its `pyodideUrl` setting) instead of Pyodide's own
// pyodide.mjs and gets Pyodide's loadPyodide, with two changes that each make the kernel ready seconds sooner:
// - Pyodide reads the standard library from the site, where it has bytecode (Pyodide's has none, and compiling
//   the modules that Python's start and IPython import takes 2.5 s);
// - imports look in the current folder last (below).
//
// scripts/build_lite.py copies it to static/pyodide/course-pyodide.js, beside the site's python_stdlib.zip, and
// writes the runtime's URL in place of the two marks below: "./pyodide.mjs" when the site holds Pyodide, Pyodide's
// CDN otherwise.
import { loadPyodide as loadRuntime } from "PYODIDE_RUNTIME_URL";

// Where a file is, as Pyodide wants it: a URL, or a path when it is a file (the tests run this loader in Node;
// on Windows, file:///C:/x is the path C:/x).
const whereIs = (url) =>
  url.protocol === "file:" ? decodeURIComponent(url.pathname).replace(/^\/([A-Za-z]:)/, "$1") : url.href;

// The kernel tells Pyodide to find its files in the folder of this module; they are in the runtime's folder.
const RUNTIME_FOLDER = whereIs(new URL(".", new URL("PYODIDE_RUNTIME_URL", import.meta.url)));
const STDLIB = whereIs(new URL("./python_stdlib.zip", import.meta.url));

// Python looks for every module it imports in sys.path's "" (the current folder) before anywhere else. The kernel
// makes the browser's file drive the current folder, and there each look is a request to the page, which answers
// it after whatever it is drawing: 103 requests while the kernel started, against 38 with the folder looked at last.
// Looked at last, the folder still serves a learner's own modules, unless one is named like an installed module.
const CURRENT_FOLDER_LAST = `
import sys
if "" in sys.path:
    sys.path.remove("")
    sys.path.append("")
`;

export async function loadPyodide(options = {}) {
  const pyodide = await loadRuntime({ ...options, indexURL: RUNTIME_FOLDER, stdLibURL: STDLIB });
  const scope = pyodide.toPy({}); // not the globals of Pyodide's __main__
  pyodide.runPython(CURRENT_FOLDER_LAST, { globals: scope });
  scope.destroy();
  return pyodide;
}
