// bench/node_heap.py on MicroPython's WebAssembly port: a 32-bit MicroPython (the ESP32's
// word size), from the npm registry (package.json; `make setup` runs `npm ci` here).
//
//   node bench/wasm32/run.mjs --flash DIR --host FILE --mode standin|code|run
//
// DIR is the board's flash as `smartcross flash` leaves it (the bundle of `smartcross
// firmware build` and node.json): copied to /flash, the working folder, which is first on
// sys.path ('', as on an ESP32). The stand-in (machine.py, emu_link.py, cabinet.py) goes
// to /lib, FILE (the scenario's numbers) to /host/host.json. Then, in every mode, the same
// calls: cabinet.setup() and the handles below, so that the stand-in's share is the same.
//   standin: the heap now: the stand-in's own share (taken off the node's figures);
//   code:    `import node.app` first: the stand-in's share plus the running modules;
//   run:     boot.py and main.py as an ESP32 runs them (in __main__), then the node and
//            the cabinet's scenario (emu_link.run), a heap sample whenever it asks.
// Each heap figure is gc.mem_alloc() read right after a collection: this port collects
// when a call from JavaScript returns, with no roots but the interpreter's (emu_link.py).
// Lines for bench/node_heap.py start with "@wasm32 "; the rest is the node's console.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STAND_IN = ["machine.py", "emu_link.py", "cabinet.py"];

function args() {
  const out = { mode: "run" };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!["flash", "host", "mode"].includes(key) || i + 1 >= argv.length) {
      console.error(`usage: node run.mjs --flash DIR --host FILE --mode bare|asyncio|standin|code|run`);
      process.exit(2);
    }
    out[key] = argv[i + 1];
  }
  if (!out.flash || !out.host || !["bare", "asyncio", "standin", "code", "run"].includes(out.mode)) {
    console.error(`usage: node run.mjs --flash DIR --host FILE --mode bare|asyncio|standin|code|run`);
    process.exit(2);
  }
  return out;
}

function copyTree(FS, from, to) {
  FS.mkdir(to);
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) {
      copyTree(FS, src, `${to}/${entry.name}`);
    } else {
      FS.writeFile(`${to}/${entry.name}`, fs.readFileSync(src));
    }
  }
}

const opt = args();
const say = (line) => process.stdout.write(`@wasm32 ${line}\n`);
const mp = await loadMicroPython({
  pystack: 16 * 1024,
  heapsize: 256 * 1024,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});

copyTree(mp.FS, path.resolve(opt.flash), "/flash");
mp.FS.mkdir("/lib");
for (const name of STAND_IN) {
  mp.FS.writeFile(`/lib/${name}`, fs.readFileSync(path.join(HERE, name)));
}
mp.FS.mkdir("/host");
mp.FS.writeFile("/host/host.json", fs.readFileSync(opt.host));
mp.FS.chdir("/flash");

const pkg = JSON.parse(fs.readFileSync(
  path.join(HERE, "node_modules/@micropython/micropython-webassembly-pyscript/package.json")));
const sys = mp.pyimport("sys");
const bits = sys.maxsize > 2 ** 32 ? 64 : 32;
say(`port ${bits} ${pkg.name}@${pkg.version} node ${process.version} ${sys.version}`);

// bare / asyncio: the heap of a fresh interpreter before and after `import asyncio` (frozen
// in the port, as in every ESP32 image): the node's import of it makes objects in RAM, which
// the stand-in's share (it imports asyncio too) would otherwise take off.
if (opt.mode === "bare" || opt.mode === "asyncio") {
  mp.runPython((opt.mode === "asyncio" ? "import asyncio\n" : "") + "import gc\ngc.collect()");
  say(`heap ${mp.pyimport("gc").mem_alloc()}`);
  process.exit(0);
}

const cabinet = mp.pyimport("cabinet");
const link = mp.pyimport("emu_link");
const setup = cabinet.setup;
const run = link.run;
const collect = link.collect;
const memAlloc = mp.pyimport("gc").mem_alloc;
setup();

function pythonError(e, allowed) {
  if (e.name === "PythonError" && e.type === allowed) {
    return;
  }
  if (e.name === "PythonError") {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}

if (opt.mode === "standin" || opt.mode === "code") {
  if (opt.mode === "code") {
    mp.runPython("import node.app");
  }
  collect();
  say(`heap ${memAlloc()}`);
  process.exit(0);
}

const flashFile = (name) => fs.readFileSync(path.join(opt.flash, name), "utf8");
try {
  mp.runPython(flashFile("boot.py"));
  mp.runPython(flashFile("main.py"));
  process.stderr.write("main.py returned: the node is not running\n");
  process.exit(1);
} catch (e) {
  pythonError(e, "Started");
}
const wall = Date.now();
for (;;) {
  let r;
  try {
    r = run();
  } catch (e) {
    pythonError(e, null);
  }
  if (r < 0) {
    break;
  }
  if (r > 0) {
    say(`sample ${r - 1} ${memAlloc()}`);
  }
}
say(`wall ${(Date.now() - wall) / 1000}`);
process.exit(0);
