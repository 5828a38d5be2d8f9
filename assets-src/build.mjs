// Builds web/static/vendor/ from the exact versions pinned in package-lock.json: browser bundles (esbuild,
// IIFE, minified, ES2019), files copied as published (axe-core, CSS, fonts), the licence of every package that
// ends up in a shipped file, and README.md listing it all. The output folder is wholly generated: it is emptied
// first, and the same lock file gives byte-identical output.
//
//   cd assets-src && npm ci && npm run build:vendor      (or `make vendor` from the project root)
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(HERE, '..', 'web', 'static', 'vendor');
const MODULES = path.join(HERE, 'node_modules');
const TARGET = 'es2019';

// Browser bundles: entry (under src/), the global it defines, and the package it is for.
const BUNDLES = [
  { file: 'bpmn-viewer.js', entry: 'src/bpmn-viewer.js', global: 'window.BpmnViewer', pkg: 'bpmn-js',
    what: 'bpmn-js NavigatedViewer (with overlays)' },
  { file: 'bpmn-modeler.js', entry: 'src/bpmn-modeler.js', global: 'window.BpmnModeler', pkg: 'bpmn-js',
    what: 'bpmn-js Modeler' },
  { file: 'bpmn-differ.js', entry: 'src/bpmn-differ.js', global: 'window.BpmnDiffer = {diff, BpmnModdle}',
    pkg: 'bpmn-js-differ', what: 'bpmn-js-differ, with bpmn-moddle to parse XML' },
];

// Files shipped as their package publishes them (relative to node_modules/).
const COPIES = [
  { file: 'axe.min.js', from: 'axe-core/axe.min.js', what: 'axe-core (for the browser tests; not used by app pages)' },
  { file: 'css/diagram-js.css', from: 'bpmn-js/dist/assets/diagram-js.css', what: 'diagram-js styles (viewer and modeler)' },
  { file: 'css/bpmn-js.css', from: 'bpmn-js/dist/assets/bpmn-js.css', what: 'bpmn-js styles (viewer and modeler)' },
  { file: 'css/bpmn.css', from: 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css',
    what: 'bpmn icon font, loaded from font/ (works under the strict CSP: use this one)' },
  { file: 'css/bpmn-embedded.css', from: 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css',
    what: 'bpmn icon font inlined as a data: URL (needs `font-src \'self\' data:`)' },
  ...['eot', 'svg', 'ttf', 'woff', 'woff2'].map((ext) => ({
    file: `font/bpmn.${ext}`, from: `bpmn-js/dist/assets/bpmn-font/font/bpmn.${ext}`, what: 'bpmn icon font',
  })),
];

// Licence texts shipped beside a package's LICENSE (third-party code inlined into its published files).
const EXTRA_LICENSES = { 'axe-core': ['LICENSE-3RD-PARTY.txt'] };

// Packages whose published files inline another package's code (so its licence ships too).
const INLINED = { 'bpmn-js-differ': ['diffpatch'] };

// Licence names for packages whose package.json only points at their LICENSE file.
const LICENSE_NAMES = { 'SEE LICENSE IN LICENSE': 'bpmn.io licence (MIT terms + the bpmn.io watermark must stay visible)' };

/** The package (name, folder) a path under node_modules belongs to. */
function packageOf(file) {
  const rel = path.relative(MODULES, path.resolve(HERE, file)).split(path.sep);
  const at = rel.lastIndexOf('node_modules');
  const parts = rel.slice(at + 1);
  const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  const dir = path.join(MODULES, ...rel.slice(0, at + 1), ...name.split('/'));
  return { name, dir };
}

const packages = new Map(); // name -> {name, version, license, dir}

function usePackage({ name, dir }) {
  const seen = packages.get(name);
  if (seen && seen.dir === dir) return seen;
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (seen && seen.version !== meta.version) {
    throw new Error(`${name} is bundled at two versions (${seen.version}, ${meta.version}): dedupe the lock file`);
  }
  const info = { name, version: meta.version, license: LICENSE_NAMES[meta.license] || meta.license, dir };
  packages.set(name, info);
  for (const inner of INLINED[name] || []) {
    const innerDir = [path.join(dir, 'node_modules', inner), path.join(MODULES, inner)].find((d) => fs.existsSync(d));
    info.inlines = [...(info.inlines || []), usePackage({ name: inner, dir: innerDir })];
  }
  return info;
}

const licenseFile = (name) => `LICENSES/${name.replace(/^@/, '').replace('/', '__')}.txt`;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(path.join(OUT, 'LICENSES'), { recursive: true });

const rows = []; // {file, pkg, what, global?, bundled?}

for (const bundle of BUNDLES) {
  const result = await esbuild.build({
    absWorkingDir: HERE,
    entryPoints: [bundle.entry],
    outfile: path.join(OUT, bundle.file),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: TARGET,
    minify: true,
    legalComments: 'none', // the licences are shipped in LICENSES/ instead
    charset: 'utf8',
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'warning',
  });
  if (result.warnings.length) throw new Error(`esbuild warned about ${bundle.file}`);
  const bundled = new Map();
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!input.includes('node_modules/')) continue;
    const info = usePackage(packageOf(input));
    for (const each of [info, ...(info.inlines || [])]) bundled.set(each.name, each);
  }
  const main = packages.get(bundle.pkg);
  rows.push({ ...bundle, pkg: main, bundled: [...bundled.values()].sort((a, b) => a.name.localeCompare(b.name)) });
}

for (const copy of COPIES) {
  const source = path.join(MODULES, copy.from);
  const target = path.join(OUT, copy.file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(source, target);
  rows.push({ ...copy, pkg: usePackage(packageOf(path.relative(HERE, source))) });
}

const sorted = [...packages.values()].sort((a, b) => a.name.localeCompare(b.name));
for (const info of sorted) {
  const text = fs.readdirSync(info.dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  if (!text) throw new Error(`${info.name} has no LICENSE file: add its licence text by hand`);
  fs.copyFileSync(path.join(info.dir, text), path.join(OUT, licenseFile(info.name)));
  for (const extra of EXTRA_LICENSES[info.name] || []) {
    fs.copyFileSync(path.join(info.dir, extra), path.join(OUT, licenseFile(`${info.name}.${extra.replace(/\.txt$/, '')}`)));
  }
}

// README.md: every file, its package, version and licence.
function sizes(file) {
  const data = fs.readFileSync(path.join(OUT, file));
  return { size: data.length, gzip: zlib.gzipSync(data, { level: 9 }).length,
           sha256: createHash('sha256').update(data).digest('hex').slice(0, 16) };
}

const lock = JSON.parse(fs.readFileSync(path.join(HERE, 'package-lock.json'), 'utf8'));
const esbuildVersion = lock.packages['node_modules/esbuild'].version;
const lines = [
  '# Vendored browser libraries',
  '',
  'Generated by `assets-src/build.mjs`: do not edit these files by hand. Rebuild them (Node 20+ and npm, never',
  'needed to run the app) from the exact versions pinned in `assets-src/package-lock.json` with:',
  '',
  '    make vendor        # = cd assets-src && npm ci && npm run build:vendor',
  '',
  `Bundles: esbuild ${esbuildVersion}, IIFE, minified, target ${TARGET}; each defines one global and nothing else.`,
  'The licence of every package whose code is in a file here is in `LICENSES/`. To upgrade: change the',
  'version in `assets-src/package.json`, `npm install` there, `make vendor`, run',
  '`tests/browser/test_vendor_assets.py`, and commit the lock file with the rebuilt files.',
  '',
  '## Files',
  '',
  '| file | bytes | gzip | package | version | licence | what |',
  '| --- | ---: | ---: | --- | --- | --- | --- |',
];
for (const row of rows) {
  const s = sizes(row.file);
  const what = row.global ? `${row.what}; defines \`${row.global}\`` : row.what;
  lines.push(`| \`${row.file}\` | ${s.size} | ${s.gzip} | ${row.pkg.name} | ${row.pkg.version} | ${row.pkg.license} | ${what} |`);
}
lines.push('', '## What each bundle contains', '');
for (const row of rows.filter((r) => r.bundled)) {
  lines.push(`- \`${row.file}\`: ${row.bundled.map((p) => `${p.name} ${p.version} (${p.license})`).join(', ')}`);
}
lines.push('', '## Licences', '', '| package | version | licence | text |', '| --- | --- | --- | --- |');
for (const info of sorted) {
  const extras = (EXTRA_LICENSES[info.name] || []).map((e) => `, \`${licenseFile(`${info.name}.${e.replace(/\.txt$/, '')}`)}\``);
  lines.push(`| ${info.name} | ${info.version} | ${info.license} | \`${licenseFile(info.name)}\`${extras.join('')} |`);
}
lines.push(
  '',
  'bpmn-js\'s licence requires the bpmn.io watermark (the logo bpmn-js draws in the corner of every diagram)',
  'to stay fully visible: never hide `.bjs-powered-by` with CSS or cover it with other elements.',
  '',
  '## Content-Security-Policy',
  '',
  'The bpmn bundles, `css/bpmn.css` and axe (injected by URL) work under the app\'s strict policy; only',
  '`css/bpmn-embedded.css` (a data: font) and the modeler\'s align/distribute icons (inline style attributes)',
  'do not. How to use each file, and what was measured: `docs/vendor-assets.md`.',
  '',
);
fs.writeFileSync(path.join(OUT, 'README.md'), lines.join('\n'));

for (const row of rows.filter((r) => r.bundled)) {
  const s = sizes(row.file);
  console.log(`${row.file.padEnd(20)} ${kib(s.size).padStart(10)}  (gzip ${kib(s.gzip)})`);
}
console.log(`wrote ${path.relative(process.cwd(), OUT)}/ (${rows.length} files, ${sorted.length} licences)`);
