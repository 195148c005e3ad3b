// The brief form is built from the API's own OpenAPI document (/v1/openapi.json), read once at run time: its
// fields, limits, defaults and enums are the API's, so a new field or a changed limit needs no change here.
import { API_BASE } from "./api";

export interface BriefField {
  name: string;
  label: string;
  description?: string;
  kind: "enum" | "integer" | "text" | "textarea" | "list";
  required: boolean;
  options: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  defaultValue?: string | number | null;
}

type Schema = Record<string, unknown>;
type OpenApi = { components: { schemas: Record<string, Schema> } };

const LABELS: Record<string, string> = {
  production_type: "Production type",
  genre: "Genre",
  subject: "Subject",
  style_instructions: "Style instructions",
  target_length: "Target length (words)",
  character_count: "Number of characters",
  setting_period: "Setting and period",
  pov: "Point of view",
  language: "Language",
  title: "Title (optional)",
  featured_characters: "Featured characters (optional, comma-separated)",
  sequel_of: "Sequel of (optional: the id of one of this project's stories)",
};

function resolve(doc: OpenApi, schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref === "string") return doc.components.schemas[ref.split("/").pop() as string];
  return schema;
}

/** The non-null branch of an `anyOf: [X, null]`, resolved. */
function nonNull(doc: OpenApi, schema: Schema): Schema {
  const branches = schema.anyOf as Schema[] | undefined;
  if (!branches) return resolve(doc, schema);
  const branch = branches.find((b) => b.type !== "null") ?? {};
  return { ...resolve(doc, branch), ...schema, anyOf: undefined };
}

/** Values of a `pattern` that is an alternation of literal words, e.g. `^(en|pl)$`. */
function patternOptions(pattern: unknown): string[] {
  if (typeof pattern !== "string") return [];
  const match = /^\^\(([\w|]+)\)\$$/.exec(pattern);
  return match ? match[1].split("|") : [];
}

export function briefFields(doc: OpenApi): BriefField[] {
  const brief = doc.components.schemas.ProductionBriefRequest;
  const required = new Set((brief.required as string[] | undefined) ?? []);
  const properties = brief.properties as Record<string, Schema>;
  return Object.entries(properties).map(([name, raw]) => {
    const schema = nonNull(doc, raw);
    const options = Array.isArray(schema.enum) ? (schema.enum as string[]) : patternOptions(schema.pattern);
    const maxLength = schema.maxLength as number | undefined;
    const kind: BriefField["kind"] = options.length
      ? "enum"
      : schema.type === "array"
        ? "list"
      : schema.type === "integer"
        ? "integer"
        : (maxLength ?? 0) > 300
          ? "textarea"
          : "text";
    return {
      name,
      label: LABELS[name] ?? name.replace(/_/g, " "),
      description: (raw.description ?? schema.description) as string | undefined,
      kind,
      required: required.has(name),
      options,
      minimum: schema.minimum as number | undefined,
      maximum: schema.maximum as number | undefined,
      minLength: schema.minLength as number | undefined,
      maxLength,
      defaultValue: (raw.default ?? schema.default) as BriefField["defaultValue"],
    };
  });
}

let openApiDocument: Promise<OpenApi> | null = null;

/** The API's OpenAPI document, fetched once (and again after a failure). */
function loadDocument(): Promise<OpenApi> {
  openApiDocument ??= fetch(`${API_BASE}/openapi.json`, { headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`openapi.json: ${response.status}`);
      return response.json() as Promise<OpenApi>;
    })
    .catch((error: unknown) => {
      openApiDocument = null;
      throw error;
    });
  return openApiDocument;
}

export async function loadBriefFields(): Promise<BriefField[]> {
  return briefFields(await loadDocument());
}

/** An enum of the document by schema name (Genre, ProductionType, Stage...), for selects outside the brief. */
export async function loadEnum(name: string): Promise<string[]> {
  const doc = await loadDocument();
  return (doc.components.schemas[name]?.enum as string[] | undefined) ?? [];
}
