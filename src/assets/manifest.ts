// Schema, loading and validation of the asset manifests: models/manifest.json (ONNX models) and
// models/media.json (demo photos and videos). Installing the listed files is left to install.ts.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Returns true when `file` stays inside the destination folder: a relative path with `/` separators
 * and no empty, `.` or `..` segment. Names starting with `.` are rejected as well, because the
 * installer writes its partial files under hidden names.
 */
function isSafeRelativePath(file: string): boolean {
  if (file.includes('\\') || file.includes('\0')) return false;
  return file.split('/').every((segment) => segment.length > 0 && !segment.startsWith('.'));
}

// http is accepted as well as https, because the sha256 check guarantees integrity, not the
// transport. Tests and local mirrors serve plain http.
const assetEntryShape = {
  file: z.string().min(1).refine(isSafeRelativePath, {
    error: 'should be a relative path with / separators and no empty, hidden, "." or ".." segment',
  }),
  url: z.url({ protocol: /^https?$/, error: 'should be an http or https URL' }),
  sha256: z.string().regex(SHA256_HEX, { error: 'should be 64 lowercase hex digits' }),
  bytes: z.number().int().positive({ error: 'should be a positive integer' }),
  license: z.string().min(1),
  note: z.string().min(1).optional(),
};

const dimensionSchema = z.union([z.number().int().positive(), z.string().min(1)]);

const tensorShape = {
  name: z.string().min(1),
  dtype: z.enum(['float32', 'float16', 'uint8', 'int8', 'int32', 'int64', 'bool']),
  shape: z.array(dimensionSchema).min(1),
  // NCHW: batch, channels, height, width. NC: batch, features. NLC: batch, rows (candidates, grid
  // cells or time steps), values per row.
  layout: z.enum(['NCHW', 'NC', 'NLC']),
};

const inputTensorSchema = z.strictObject({
  ...tensorShape,
  pixelFormat: z.enum(['BGR', 'RGB']),
  // value = (pixel / divideBy - mean) / std, with pixel values 0-255.
  normalisation: z.strictObject({
    divideBy: z.number().positive(),
    mean: z.number(),
    std: z.number().positive(),
  }),
  preprocessing: z.string().min(1),
});

const outputTensorSchema = z
  .strictObject({
    ...tensorShape,
    description: z.string().min(1),
    labels: z.array(z.string().min(1)).min(1).optional(),
  })
  .superRefine((output, ctx) => {
    const lastDim = output.shape[output.shape.length - 1];
    if (output.labels && typeof lastDim === 'number' && output.labels.length !== lastDim) {
      ctx.addIssue({
        code: 'custom',
        path: ['labels'],
        message: `should have one label per class, ${lastDim} as in the last dimension of shape, instead got ${output.labels.length}`,
      });
    }
  });

const modelEntrySchema = z
  .strictObject({
    ...assetEntryShape,
    job: z.string().min(1),
    inputs: z.array(inputTensorSchema).min(1),
    outputs: z.array(outputTensorSchema).min(1),
  })
  .superRefine((entry, ctx) => {
    addDuplicateIssues(entry.inputs.map((input) => input.name), 'inputs', 'name', ctx);
    addDuplicateIssues(entry.outputs.map((output) => output.name), 'outputs', 'name', ctx);
  });

const mediaEntrySchema = z.strictObject(assetEntryShape);

function addDuplicateIssues(values: string[], listKey: string, fieldKey: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value)) {
      ctx.addIssue({ code: 'custom', path: [listKey, index, fieldKey], message: `should be unique, "${value}" appears twice` });
    }
    seen.add(value);
  });
}

function addDuplicateFileIssues(manifest: { entries: { file: string }[] }, ctx: z.RefinementCtx): void {
  addDuplicateIssues(manifest.entries.map((entry) => entry.file), 'entries', 'file', ctx);
}

const modelManifestSchema = z
  .strictObject({
    kind: z.literal('models'),
    description: z.string().min(1),
    entries: z.array(modelEntrySchema).min(1),
  })
  .superRefine(addDuplicateFileIssues);

const mediaManifestSchema = z
  .strictObject({
    kind: z.literal('media'),
    description: z.string().min(1),
    entries: z.array(mediaEntrySchema).min(1),
  })
  .superRefine(addDuplicateFileIssues);

const manifestSchema = z.discriminatedUnion('kind', [modelManifestSchema, mediaManifestSchema]);

export type AssetEntry = z.infer<typeof mediaEntrySchema>;
export type InputTensorSpec = z.infer<typeof inputTensorSchema>;
export type OutputTensorSpec = z.infer<typeof outputTensorSchema>;
export type TensorDtype = InputTensorSpec['dtype'];
export type TensorLayout = InputTensorSpec['layout'];
export type PixelFormat = InputTensorSpec['pixelFormat'];
export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type MediaManifest = z.infer<typeof mediaManifestSchema>;
export type AssetManifest = ModelManifest | MediaManifest;

export type ManifestErrorCode = 'MANIFEST_NOT_FOUND' | 'MANIFEST_INVALID';

export class ManifestError extends Error {
  override readonly name = 'ManifestError';

  constructor(
    readonly code: ManifestErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function formatIssuePath(issuePath: readonly PropertyKey[]): string {
  let text = '';
  for (const key of issuePath) {
    text += typeof key === 'number' ? `[${key}]` : `${text ? '.' : ''}${String(key)}`;
  }
  return text || '(top level)';
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const isPrimitive = input === null || ['string', 'number', 'boolean'].includes(typeof input);
  const received = isPrimitive && issue.code !== 'custom' ? `, instead got ${JSON.stringify(input)}` : '';
  return `${formatIssuePath(issue.path)}: ${issue.message}${received}`;
}

/**
 * Validates parsed JSON as a model or media manifest and returns it typed. Throws ManifestError
 * (MANIFEST_INVALID) listing every invalid field by its path, e.g. `entries[2].sha256`.
 */
export function parseManifest(data: unknown, source: string): AssetManifest {
  const result = manifestSchema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;

  const problems = result.error.issues.map(formatIssue).join('; ');
  throw new ManifestError('MANIFEST_INVALID', `invalid manifest ${source}: ${problems}. Fix these fields and retry.`);
}

/** Reads and validates a manifest file. Throws ManifestError when it is missing, not JSON or invalid. */
export async function loadManifest(filePath: string): Promise<AssetManifest> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    throw new ManifestError('MANIFEST_NOT_FOUND', `cannot read manifest ${filePath}: ${(error as Error).message}. Check the path.`, {
      cause: error,
    });
  }

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ManifestError('MANIFEST_INVALID', `invalid manifest ${filePath}: not valid JSON (${(error as Error).message}). Fix the JSON syntax.`, {
      cause: error,
    });
  }
  return parseManifest(data, filePath);
}

/** Reads a manifest and checks that it lists models, for callers that need the tensor specs. */
export async function loadModelManifest(filePath: string): Promise<ModelManifest> {
  const manifest = await loadManifest(filePath);
  if (manifest.kind !== 'models') {
    throw new ManifestError('MANIFEST_INVALID', `invalid manifest ${filePath}: kind should be "models", instead got "${manifest.kind}".`);
  }
  return manifest;
}
