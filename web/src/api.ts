// The API client: same origin, under /v1 (the local stack serves it there, CloudFront forwards it to API Gateway).
// Tokens: the access token lives only in memory (gone on reload, never readable from storage by another script
// later); the refresh token is kept in sessionStorage so a reload of this tab stays signed in, while closing the
// tab ends the session and other tabs never share it. Every 401 is answered by one refresh and one retry.

export const API_BASE = "/v1";
const REFRESH_KEY = "narraforge.refresh_token";

export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type?: string | null;
}

/** An RFC 9457 problem from the API (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldError[];
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.detail === "string" ? body.detail : `Request failed (${status})`);
    this.status = status;
    this.code = typeof body.code === "string" ? body.code : "error";
    this.errors = Array.isArray(body.errors) ? (body.errors as FieldError[]) : [];
    this.body = body;
  }

  /** The message for one form field: errors whose `loc` ends with the field's path. */
  fieldMessage(...path: string[]): string | undefined {
    const match = this.errors.find((e) => {
      const tail = e.loc.slice(-path.length).map(String);
      return tail.length === path.length && tail.every((part, i) => part === path[i]);
    });
    return match?.msg;
  }
}

export interface User {
  id: string;
  email: string;
  full_name: string | null;
  subscription_tier: string;
  monthly_generation_limit: number | null;
  monthly_generations_used: number;
  monthly_cost_limit_usd: number | null;
  monthly_cost_used_usd: number;
}

export interface AuthResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: User;
}

/** A sign-in provider configured on this deployment (`GET /auth/oauth/providers`). */
export interface OAuthProviderInfo {
  id: string;
  name: string;
}

let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(signedIn: boolean) => void>();

export function onSessionChange(listener: (signedIn: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function storeSession(auth: AuthResponse): void {
  accessToken = auth.access_token;
  sessionStorage.setItem(REFRESH_KEY, auth.refresh_token);
}

export function clearSession(): void {
  accessToken = null;
  sessionStorage.removeItem(REFRESH_KEY);
  listeners.forEach((listener) => listener(false));
}

/** The access token for the progress WebSocket, which cannot send an Authorization header. */
export function currentAccessToken(): string | null {
  return accessToken;
}

export function hasRefreshToken(): boolean {
  return sessionStorage.getItem(REFRESH_KEY) !== null;
}

/** Trades the stored refresh token for a new pair (rotation); concurrent callers share one request. */
export function refreshSession(): Promise<boolean> {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) return Promise.resolve(false);
  refreshing ??= fetch(`${API_BASE}/auth/refresh`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ refresh_token: token }),
  })
    .then(async (response) => {
      if (!response.ok) {
        clearSession();
        return false;
      }
      storeSession((await response.json()) as AuthResponse);
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  auth?: boolean;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.auth !== false && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(`${API_BASE}${path}`, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, { detail: "The server cannot be reached. Check your connection and try again." });
  }
}

/** A request with the bearer token; a 401 refreshes the session once and retries. A 401 that survives a good
 * refresh is about the request itself (a password re-check that failed), so the session stays. */
export async function raw(path: string, options: RequestOptions = {}): Promise<Response> {
  let response = await send(path, options);
  if (response.status === 401 && options.auth !== false) {
    if (await refreshSession()) response = await send(path, options);
    else clearSession();
  }
  if (!response.ok) {
    let body: Record<string, unknown> = {};
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      body = { detail: `${response.status} ${response.statusText}` };
    }
    throw new ApiError(response.status, body);
  }
  return response;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await raw(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Downloads an authenticated file: fetched as a blob, saved through a temporary object URL. */
export async function download(path: string, fallbackName: string): Promise<string> {
  const response = await raw(path, { headers: { Accept: "*/*" } });
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = encoded ? decodeURIComponent(encoded[1]) : plain ? plain[1] : fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

// Shapes of the API's responses that the app reads (see /v1/openapi.json for the whole documents).
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
  total_pages: number;
}

export interface Project {
  id: string;
  name: string;
  description: string | null;
  default_genre: string | null;
  default_production_type: string | null;
  narrative_count: number;
  total_word_count: number;
  total_cost_usd: number;
  created_at: string;
}

export interface StageUsage {
  stage: string;
  llm_calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  duration_seconds: number;
  completed_at: string | null;
}

export type JobStatusName = "QUEUED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";

export interface JobStatus {
  id: string;
  status: JobStatusName;
  current_stage: string | null;
  completed_stages: string[];
  progress_percentage: number;
  segments_total: number | null;
  segments_drafted: number;
  estimated_cost_usd: number | null;
  actual_cost_usd: number | null;
  can_resume: boolean;
  narrative_id: string | null;
  error_message: string | null;
  updated_at: string;
}

export interface Job extends JobStatus {
  project_id: string;
  production_brief: Record<string, unknown>;
  tokens_used: number;
  llm_calls: number;
  started_at: string | null;
  completed_at: string | null;
  duration_seconds: number | null;
  failed_stage: string | null;
  provider: string | null;
  stages: StageUsage[];
  created_at: string;
}

export interface Narrative {
  id: string;
  project_id: string;
  job_id: string;
  title: string;
  production_type: string;
  genre: string;
  word_count: number;
  overall_quality_score: number | null;
  generation_cost_usd: number;
  tokens_used: number;
  version: number;
  created_at: string;
}

export interface NarrativeDetail extends Narrative {
  narrative_text: string;
  narrative_metadata: Record<string, unknown>;
  quality_metrics: Record<string, unknown>;
  exported_formats: string[];
  updated_at: string;
}

export interface NarrativeVersion {
  version: number;
  created_at: string;
  word_count: number;
  overall_score: number | null;
  job_id: string;
  parent_version: number | null;
  instructions: string | null;
  is_current: boolean;
}

export interface UsageLogEntry {
  id: string;
  job_id: string;
  narrative_id: string | null;
  status: JobStatusName;
  llm_calls: number;
  tokens_used: number;
  cost_usd: number;
  created_at: string;
}

export interface Usage {
  month: string;
  subscription_tier: string;
  generations_used: number;
  generation_limit: number | null;
  cost_used_usd: number;
  cost_limit_usd: number | null;
  resets_at: string;
  log: Page<UsageLogEntry>;
}

export const STAGES = [
  "brief_interpretation",
  "world_architecture",
  "character_architecture",
  "structure_design",
  "segment_planning",
  "segment_generation",
  "coherence_validation",
  "language_stylization",
  "editorial_review",
  "output_processing",
] as const;

export const EXPORT_FORMATS = ["txt", "md", "pdf", "epub", "docx"] as const;

export function humanize(value: string): string {
  const text = value.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "unknown";  // the API's null: a model with no known price
  return `$${value.toFixed(value !== 0 && value < 0.01 ? 4 : 2)}`;
}
