/**
 * The attachments API as a bench client sees it (bench/api.ts is the GraphQL
 * side): an upload as a browser's FormData sends it, and a download read to
 * its last byte. The same code drives CareThread and bench/bare-files.ts.
 */

export interface Stored {
  /** Where GET downloads it: a path on the server. */
  url: string;
  /** Bytes stored: the upload's, or, for an image CareThread re-encoded, the new file's. */
  size: number;
}

/** POSTs `bytes` to `<origin>/attachments` as the `file` part of multipart/form-data; throws unless answered 201. */
export async function upload(serverUrl: string, token: string, bytes: Uint8Array, file: { name: string; type: string }): Promise<Stored> {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: file.type }), file.name);
  const res = await fetch(new URL('/attachments', serverUrl), { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { url: string; size: number };
  if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${JSON.stringify(body)}`);
  return { url: body.url, size: body.size };
}

/** GETs `stored.url` and reads the whole body; throws unless answered 200 with `stored.size` bytes. */
export async function download(serverUrl: string, token: string, stored: Stored): Promise<void> {
  const res = await fetch(new URL(stored.url, serverUrl), { headers: { authorization: `Bearer ${token}` } });
  const bytes = await res.arrayBuffer();
  if (res.status !== 200 || bytes.byteLength !== stored.size) throw new Error(`download answered ${res.status} with ${bytes.byteLength} bytes, not ${stored.size}`);
}
