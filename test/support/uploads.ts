import { PDFDocument, PDFName, PDFString, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { asRecipient, type World } from './world';

/** Where the server takes uploads and serves downloads: next to /graphql. */
export const attachmentsUrl = (graphqlUrl: string) => new URL('/attachments', graphqlUrl).href;

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** POSTs `bytes` as the `file` part of a multipart/form-data upload, as a browser's FormData would. */
export async function upload(graphqlUrl: string, token: string | null, bytes: Uint8Array, file: { name: string; type?: string }): Promise<Answer> {
  const form = new FormData();
  form.append('file', new Blob([bytes], file.type === undefined ? {} : { type: file.type }), file.name);
  const res = await fetch(attachmentsUrl(graphqlUrl), { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** The upload's Attachment, failing the test unless it was accepted. */
export async function uploaded(graphqlUrl: string, token: string, bytes: Uint8Array, file: { name: string; type?: string }) {
  const answer = await upload(graphqlUrl, token, bytes, file);
  if (answer.status !== 201) throw new Error(`upload refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as { id: string; name: string; contentType: string; size: number; width: number | null; height: number | null; thumbnail: string | null; url: string };
}

/** GETs a download: `url` a path of the server (with the bearer token) or a full link. */
export async function download(graphqlUrl: string, url: string, token: string | null): Promise<{ status: number; headers: Headers; bytes: Buffer; json: any }> {
  const res = await fetch(new URL(url, graphqlUrl), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(bytes.toString()) : null;
  return { status: res.status, headers: res.headers, bytes, json };
}

/** A photo as a phone takes it: a camera make and a GPS position in its EXIF. */
export function photoWithLocation(width = 64, height = 48, background = '#c04040'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } })
    .jpeg()
    .withExif({ IFD0: { Make: 'AcmeCamCorp', Model: 'Z9' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
    .toBuffer();
}

export const png = (width = 20, height = 20) => sharp({ create: { width, height, channels: 3, background: '#3050a0' } }).png().toBuffer();
export const gif = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).gif().toBuffer();

/** A one-page letter saying `text`; `withScript` adds a JavaScript action run when it opens. */
export async function letter(text = 'Results are normal.', withScript = false): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([300, 200]);
  page.drawText(text, { x: 20, y: 100, font: await doc.embedFont(StandardFonts.Helvetica), size: 12 });
  if (withScript) doc.catalog.set(PDFName.of('OpenAction'), doc.context.obj({ Type: 'Action', S: 'JavaScript', JS: PDFString.of('app.alert(1)') }));
  return doc.save();
}

/** A patient and their doctor in a thread the patient began. */
export async function consultation(world: World, label: string) {
  const doctor = await world.professional(`Dr ${label}`);
  const patient = await world.patient(`Patient ${label}`);
  await world.share(patient, doctor);
  const threadId = await world.thread(patient, [asRecipient(doctor)]);
  return { doctor, patient, threadId };
}
