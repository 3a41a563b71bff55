// Draws the stores' 128×128 PNG icon (media/icon.png) from the activity-bar glyph media/keyring.svg, so the two never
// drift apart: the glyph in white on the gallery banner's colour, in a rounded square. Run with `npm run icon`.
import { Resvg } from '@resvg/resvg-js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const mediaDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'media');
const manifest = JSON.parse(readFileSync(path.join(mediaDir, '..', 'package.json'), 'utf8')) as { galleryBanner: { color: string } };

const glyph = readFileSync(path.join(mediaDir, 'keyring.svg'), 'utf8')
  .replace(/^<svg[^>]*>/, '')
  .replace(/<\/svg>\s*$/, '');
// The 24-unit glyph, scaled to fill 128 px with a margin of 16.
const icon = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">
  <rect width="128" height="128" rx="24" fill="${manifest.galleryBanner.color}"/>
  <g transform="translate(16 16) scale(4)" fill="none" stroke="#ffffff" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">${glyph}</g>
</svg>`;

const png = new Resvg(icon, { fitTo: { mode: 'original' } }).render().asPng();
writeFileSync(path.join(mediaDir, 'icon.png'), png);
console.log(`media/icon.png: ${png.length} bytes`);
