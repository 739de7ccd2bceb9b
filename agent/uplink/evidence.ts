// Measures and strips the evidence images inside a stored event payload (JSON of the event schema),
// so the outbox can keep its disk budget without knowing how events are built.

/** Bytes of base64 JPEG evidence inside one event payload; 0 when it is not JSON or has none. */
export function evidenceBytesOf(payload: Buffer): number {
  const evidence = parseEvidence(payload);
  if (evidence === null) return 0;
  let bytes = 0;
  for (const item of evidence) {
    if (item !== null && typeof item === 'object' && typeof (item as { jpegBase64?: unknown }).jpegBase64 === 'string') {
      bytes += (item as { jpegBase64: string }).jpegBase64.length;
    }
  }
  return bytes;
}

/**
 * Returns the payload with an empty evidence list, or null when it has no evidence to strip. The
 * event stays valid under the event schema, which allows an empty list.
 */
export function stripEvidence(payload: Buffer): Buffer | null {
  let event: unknown;
  try {
    event = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (event === null || typeof event !== 'object') return null;
  const record = event as Record<string, unknown>;
  if (!Array.isArray(record.evidence) || record.evidence.length === 0) return null;
  return Buffer.from(JSON.stringify({ ...record, evidence: [] }));
}

function parseEvidence(payload: Buffer): unknown[] | null {
  // Payloads without the key are skipped without a parse, which keeps appends of plain events cheap.
  if (!payload.includes('"evidence"')) return null;
  try {
    const event = JSON.parse(payload.toString('utf8')) as { evidence?: unknown };
    return Array.isArray(event.evidence) ? event.evidence : null;
  } catch {
    return null;
  }
}
