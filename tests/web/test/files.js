// Small real files for the browser tests: PNG images drawn pixel by pixel
// and a one-page PDF, built here so that no binary fixture is committed.

import zlib from 'node:zlib';

/** A PNG chunk with its CRC. */
function chunk(kind, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(kind, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A `width` x `height` RGB PNG whose pixel (x, y) is `paint(x, y)` = [r, g, b]. */
export function png(width, height, paint = (x, y) => [40 + (x * 7) % 180, 90 + (y * 5) % 140, 200]) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits a channel, RGB
  const stride = width * 3 + 1;
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y += 1) {
    rows[y * stride] = 0; // filter: none
    for (let x = 0; x < width; x += 1) rows.set(paint(x, y), y * stride + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A one-page PDF showing `text` (ASCII), with a correct cross-reference table. */
export function pdf(text = 'Hello from the chat tests') {
  const escaped = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const content = `BT /F1 24 Tf 72 720 Td (${escaped}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/**
 * A photo-like picture for the screenshots: a whiteboard with a small
 * graph drawn on it (nodes and weighted edges, as in an algorithms class).
 */
export function whiteboard(width = 640, height = 420) {
  const nodes = [[110, 120], [300, 80], [500, 140], [200, 300], [420, 320]];
  const edges = [[0, 1], [1, 2], [0, 3], [1, 3], [1, 4], [2, 4], [3, 4]];
  const near = (px, py, [ax, ay], [bx, by]) => {
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
    return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
  };
  return png(width, height, (x, y) => {
    // The board: off-white, lit from the top left, with a frame.
    if (x < 10 || y < 10 || x >= width - 10 || y >= height - 10) return [150, 156, 164];
    const light = 246 - Math.round((x + y) / (width + height) * 26);
    let pixel = [light, light, light + 3];
    for (const [a, b] of edges) {
      if (near(x, y, nodes[a], nodes[b]) < 2.4) pixel = a === 1 && b === 3 ? [205, 45, 45] : [35, 75, 170];
    }
    for (const [cx, cy] of nodes) {
      const d = Math.hypot(x - cx, y - cy);
      if (d < 24) pixel = [light, light, light + 3];
      if (d >= 21 && d < 25) pixel = [30, 30, 36];
    }
    return pixel;
  });
}
