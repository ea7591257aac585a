// Builds the web app into functions/web/web_site/public/ (what WebFunction serves):
//   assets/main-<hash>.js and .css, assets/icon-<hash>.svg, then index.html, written last.
// `node build.mjs --tests` bundles test/*.test.ts for `node --test` instead.
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rm, writeFile, rename } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const publicDir = path.resolve(here, "..", "functions", "web", "web_site", "public");
const assetsDir = path.join(publicDir, "assets");

const shared = {
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome111", "firefox113", "safari16.4"],
  jsx: "automatic",
  jsxImportSource: "preact",
  // Downshift is written for React: Preact's compatibility layer stands in for it.
  alias: { react: "preact/compat", "react-dom": "preact/compat", "react/jsx-runtime": "preact/jsx-runtime" },
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
};

async function buildTests() {
  const testDir = path.join(here, "test");
  const outdir = path.join(here, ".test-build");
  await rm(outdir, { recursive: true, force: true });
  const entryPoints = (await readdir(testDir)).filter((name) => name.endsWith(".test.ts"));
  await esbuild.build({
    ...shared,
    entryPoints: entryPoints.map((name) => path.join(testDir, name)),
    outdir,
    outExtension: { ".js": ".mjs" },
    platform: "node",
    target: "node20",
  });
}

function contentHash(bytes) {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 12);
}

async function buildApp() {
  // Build next to the folder, then swap it in: a running `make dev` never serves half a build.
  const staging = `${publicDir}.next`;
  await rm(staging, { recursive: true, force: true });
  const result = await esbuild.build({
    ...shared,
    entryPoints: [path.join(here, "src", "main.tsx")],
    outdir: path.join(staging, "assets"),
    entryNames: "[name]-[hash]",
    chunkNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    splitting: true,
    minify: true,
    legalComments: "eof",
    metafile: true,
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
  // The chunks the entry imports statically: preloaded, so they load alongside it, not after it.
  const [, entry] = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint) ?? [];
  const preloads = (entry?.imports ?? [])
    .filter((imported) => imported.kind === "import-statement")
    .map((imported) => `    <link rel="modulepreload" href="{{base}}/assets/${path.basename(imported.path)}">`);
  const script = outputs.find((name) => name.startsWith("main-") && name.endsWith(".js"));
  const stylesheet = outputs.find((name) => name.startsWith("main-") && name.endsWith(".css"));
  if (!script || !stylesheet) throw new Error(`esbuild made no script or stylesheet: ${outputs}`);

  const icon = await readFile(path.join(here, "src", "icon.svg"));
  const iconName = `icon-${contentHash(icon)}.svg`;
  await writeFile(path.join(staging, "assets", iconName), icon);

  const template = await readFile(path.join(here, "src", "index.html"), "utf8");
  const page = template
    .replaceAll("%SCRIPT%", `{{base}}/assets/${script}`)
    .replaceAll("%STYLESHEET%", `{{base}}/assets/${stylesheet}`)
    .replaceAll("%ICON%", `{{base}}/assets/${iconName}`)
    .replace("    %PRELOADS%\n", preloads.map((line) => `${line}\n`).join(""));
  if (page.includes("%")) throw new Error("index.html has a placeholder the build does not fill");
  await writeFile(path.join(staging, "index.html"), page);

  await rm(publicDir, { recursive: true, force: true });
  await mkdir(path.dirname(publicDir), { recursive: true });
  await rename(staging, publicDir);

  for (const name of [...outputs, iconName].sort()) {
    const bytes = await readFile(path.join(assetsDir, name));
    const kib = (n) => (n / 1024).toFixed(1).padStart(6);
    console.log(`web: assets/${name.padEnd(28)} ${kib(bytes.length)} KiB, ${kib(gzipSync(bytes).length)} KiB gzipped`);
  }
  console.log(`web: built into ${path.relative(process.cwd(), publicDir) || publicDir}`);
}

if (process.argv.includes("--tests")) {
  await buildTests();
} else {
  await buildApp();
}
