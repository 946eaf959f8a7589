// Builds assets/plotly/plotly-mfhc.min.js (see assets/plotly/README.md):
//     npm ci --ignore-scripts && npm run build
// The options are those of Plotly.js's own esbuild-config.js for its dist bundles, minified,
// with a header naming the build, as Plotly's own bundles have. Two changes: the style sheets
// Plotly.js puts in the page are named by their path inside this folder, not on this
// machine (Plotly's inline-CSS plugin hashes the absolute path), so the same sources give
// the same file wherever it is built; and the world topojson's default address is
// assets/topojson/, not Plotly's CDN (below).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { environmentPlugin } from 'esbuild-plugin-environment';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const version = JSON.parse(readFileSync(require.resolve('plotly.js/package.json'), 'utf8')).version;

const inlineCss = {
    name: 'inline-css',
    setup(build) {
        build.onLoad({ filter: /\.css$/ }, async (args) => {
            const css = await readFile(args.path, 'utf8');
            const where = path.relative(here, args.path).split(path.sep).join('/');
            const id = JSON.stringify(createHash('sha256').update(where).digest('hex'));
            return {
                contents: `(function(){if(!document.getElementById(${id})){var e=document.createElement('style');`
                    + `e.id=${id};e.textContent=${JSON.stringify(css)};document.head.appendChild(e);}})();`,
                loader: 'js',
            };
        });
    },
};

// Plotly.js's default address for the world topojson of geo charts is a web address (its
// CDN); mfhc runs offline and serves the files from assets/topojson/, so the bundle's
// default is that folder (each chart's config names it too). Found by its shape, so no web
// address is written here; the build fails if either pattern is not found exactly once.
const OFFLINE_TOPOJSON = [
    [/(topojsonURL: \{[^}]*?dflt: )'https:\/\/[^']*'/, "$1'/assets/topojson/'"],
    [/'By default, the topojson files are fetched from [^']*'/,
        "'In mfhc the topojson files are served from /assets/topojson/.'"],
];
const offlineTopojson = {
    name: 'offline-topojson',
    setup(build) {
        build.onLoad({ filter: /plot_api[\\/]plot_config\.js$/ }, async (args) => {
            let source = await readFile(args.path, 'utf8');
            for (const [pattern, to] of OFFLINE_TOPOJSON) {
                const found = source.match(new RegExp(pattern.source, 'g')) || [];
                if (found.length !== 1) throw new Error(`${args.path}: ${pattern} found ${found.length} times`);
                source = source.replace(pattern, to);
            }
            return { contents: source, loader: 'js', resolveDir: path.dirname(args.path) };
        });
    },
};

const built = await esbuild.build({
    entryPoints: [path.join(here, 'entry.cjs')],
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    write: false,
    plugins: [inlineCss, offlineTopojson, environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'warning',
});
const header = `/**
* plotly.js (mfhc: bar, choropleth, funnel, heatmap, scatter, scattergeo - minified) v${version}
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license
*/
`;
writeFileSync(path.join(here, '..', '..', 'assets', 'plotly', 'plotly-mfhc.min.js'), header + built.outputFiles[0].text);
