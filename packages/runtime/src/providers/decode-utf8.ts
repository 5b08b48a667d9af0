/**
 * Decodes a byte stream as UTF-8, text chunk by text chunk: a multi-byte character split across
 * reads is held back until its last byte arrives. Chunks that are already strings pass through.
 */
export async function* decodeUtf8(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  const rest = decoder.decode();
  if (rest !== '') yield rest;
}
