// One file sent to `POST /chat/{group}/attachment` (docs/chat-api.md#attachments)
// as the raw body, its name in `?name=`, the token in the Authorization
// header. XMLHttpRequest, for its upload progress; the browser streams the
// file from disk. `abort()` stops it: the server drops what it had received.
// A refusal is explained in words.

import { formatSize } from './attachments.js';

export class UploadError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The server keeps at most 255 characters of a name, without control characters. */
export function cleanName(name) {
  const clean = (name ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim() || 'file';
  if (clean.length <= 255) return clean;
  const dot = clean.lastIndexOf('.');
  const extension = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : '';
  return clean.slice(0, 255 - extension.length) + extension;
}

/**
 * Starts uploading `file` to `group`. `onProgress(fraction)` follows the
 * bytes sent. Returns `{done, abort}`: `done` resolves with the Attachment,
 * or rejects with an UploadError (code `cancelled` after `abort()`).
 */
export function upload({ token, group, file, name = file.name, onProgress = () => {} }) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open('POST', `/chat/${encodeURIComponent(group)}/attachment?name=${encodeURIComponent(cleanName(name))}`);
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status === 201 && xhr.response?.id) return resolve(xhr.response);
      const error = xhr.response?.error ?? {};
      reject(new UploadError(xhr.status, error.code ?? 'internal', explain(xhr.status, error.message)));
    });
    xhr.addEventListener('error', () => reject(new UploadError(0, 'unavailable', explain(0))));
    xhr.addEventListener('abort', () => reject(new UploadError(0, 'cancelled', 'cancelled')));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

/** Why an upload was refused, for the user; the server's own words where they help. */
function explain(status, message = '') {
  // The server counts in bytes: `at most 26214400 bytes` reads `at most 26.2 MB`.
  const said = message.replace(/\b(\d{4,}) bytes\b/g, (_, n) => formatSize(Number(n)));
  switch (status) {
    case 0: return 'the chat server cannot be reached; check the connection and try again';
    case 401: return 'your session has expired; sign in again';
    case 403: return 'you are not a member of this conversation';
    case 404: return 'this conversation no longer exists';
    case 413: return `the file is too large (${said || 'over the server’s limit'})`;
    case 429: return 'you are uploading too fast; wait a moment and try again';
    default:
      if (status >= 500) return 'the server could not store it right now; try again later';
      return said || `the server answered ${status}`;
  }
}
