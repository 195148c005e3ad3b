// A new story: every field of the production brief, with the API's own limits and enums (from /v1/openapi.json).
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, ApiError, humanize, usd, type Job, type Page, type Project } from "../api";
import { loadBriefFields, type BriefField } from "../briefSchema";
import { ErrorMessage, Field, Loading, PageTitle } from "../ui";

type Values = Record<string, string>;

interface Estimate {
  estimated_cost_usd: number | null;
  unpriced_models: string[];
  model_calls: number;
  estimated_seconds: number;
  assumptions: string;
  within_plan: boolean;
}

function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
// The API takes language codes; their names for the select (any other code shows as itself).
const LANGUAGE_NAMES: Record<string, string> = { en: "English", pl: "Polish" };

function initialValues(fields: BriefField[]): Values {
  return Object.fromEntries(
    fields.map((f) => [f.name, f.defaultValue === null || f.defaultValue === undefined ? "" : String(f.defaultValue)]),
  );
}

function limitHint(field: BriefField): string | undefined {
  if (field.kind === "integer" && field.minimum !== undefined && field.maximum !== undefined) {
    return `${field.minimum.toLocaleString()} to ${field.maximum.toLocaleString()}.`;
  }
  if ((field.kind === "text" || field.kind === "textarea") && field.maxLength) {
    return field.minLength ? `${field.minLength} to ${field.maxLength} characters.` : `Up to ${field.maxLength} characters.`;
  }
  return undefined;
}

function BriefInput({
  field,
  value,
  onChange,
  project,
  error,
}: {
  field: BriefField;
  value: string;
  onChange: (value: string) => void;
  project: Project | undefined;
  error?: string;
}) {
  const projectDefault =
    field.name === "genre" ? project?.default_genre : field.name === "production_type" ? project?.default_production_type : null;
  const hint = [limitHint(field), field.kind === "enum" && !field.defaultValue && !projectDefault ? "Required." : ""]
    .filter(Boolean)
    .join(" ");
  return (
    <Field label={field.label} error={error} hint={hint || undefined}>
      {(props) => {
        if (field.kind === "enum") {
          return (
            <select {...props} name={field.name} value={value} onChange={(e) => onChange(e.target.value)}>
              {!field.defaultValue && (
                <option value="">{projectDefault ? `Project default (${humanize(projectDefault)})` : "Choose…"}</option>
              )}
              {field.options.map((option) => (
                <option key={option} value={option}>
                  {field.name === "language" ? (LANGUAGE_NAMES[option] ?? option) : humanize(option)}
                </option>
              ))}
            </select>
          );
        }
        if (field.kind === "integer") {
          return (
            <input {...props} name={field.name} type="number" inputMode="numeric" min={field.minimum} max={field.maximum}
              value={value} onChange={(e) => onChange(e.target.value)} />
          );
        }
        if (field.kind === "textarea") {
          return (
            <textarea {...props} name={field.name} rows={field.name === "subject" ? 3 : 2} maxLength={field.maxLength}
              value={value} onChange={(e) => onChange(e.target.value)} />
          );
        }
        return (
          <input {...props} name={field.name} maxLength={field.maxLength} value={value}
            onChange={(e) => onChange(e.target.value)} />
        );
      }}
    </Field>
  );
}

export function Write() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [fields, setFields] = useState<BriefField[] | null>(null);
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [projectId, setProjectId] = useState(params.get("project") ?? "");
  const [values, setValues] = useState<Values>({});
  const [error, setError] = useState<unknown>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  // One key per form: a double submit or a retry after a network error never starts two jobs.
  const idempotencyKey = useMemo(() => crypto.randomUUID(), []);

  useEffect(() => {
    loadBriefFields()
      .then((loaded) => {
        setFields(loaded);
        setValues(initialValues(loaded));
      })
      .catch(setLoadError);
    api<Page<Project>>("/projects/?page=1&page_size=100")
      .then((page) => {
        setProjects(page.items);
        setProjectId((current) => current || page.items[0]?.id || "");
      })
      .catch(setLoadError);
  }, []);

  const project = projects?.find((p) => p.id === projectId);

  const briefOf = (fields: BriefField[]): Record<string, string | number | string[]> => {
    const brief: Record<string, string | number | string[]> = {};
    for (const field of fields) {
      const value = values[field.name]?.trim() ?? "";
      // an optional field left empty is left out when its default is "none" (a null title, no sequel)
      if (value === "" && !field.required && (field.kind === "enum" || field.kind === "list" || field.defaultValue == null)) continue;
      if (field.kind === "list") {
        brief[field.name] = value.split(",").map((item) => item.trim()).filter(Boolean);
        continue;
      }
      brief[field.name] = field.kind === "integer" && value !== "" && !Number.isNaN(Number(value)) ? Number(value) : value;
    }
    return brief;
  };

  const estimateBrief = async () => {
    if (!fields) return;
    setError(null);
    setEstimate(null);
    try {
      setEstimate(await api<Estimate>("/jobs/estimate", {
        method: "POST",
        body: { project_id: projectId, production_brief: briefOf(fields) },
      }));
    } catch (caught) {
      setError(caught);
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!fields) return;
    setBusy(true);
    setError(null);
    const brief = briefOf(fields);
    try {
      const job = await api<Job>("/jobs/", {
        method: "POST",
        headers: { "Idempotency-Key": idempotencyKey },
        body: { project_id: projectId, production_brief: brief },
      });
      navigate(`/watch/${job.id}`);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };

  if (loadError) return <ErrorMessage error={loadError} />;
  if (!fields || !projects) return <Loading what="the brief form" />;
  if (!projects.length) {
    return (
      <>
        <PageTitle>New story</PageTitle>
        <p>
          Stories live in projects. <Link to="/library">Create a project</Link> first.
        </p>
      </>
    );
  }
  const apiError = error instanceof ApiError ? error : null;
  const briefError = (name: string) => apiError?.fieldMessage("production_brief", name);
  const unplaced = apiError?.errors.filter((e) => {
    const name = String(e.loc[e.loc.length - 1]);
    return !fields.some((f) => f.name === name) && name !== "project_id";
  });
  return (
    <>
      <PageTitle>New story</PageTitle>
      <form className="card brief" onSubmit={submit} noValidate aria-describedby="estimate-note">
        <ErrorMessage error={error} />
        {unplaced && unplaced.length > 0 && (
          <ul className="field-error">
            {unplaced.map((e) => (
              <li key={e.loc.join(".")}>{e.msg}</li>
            ))}
          </ul>
        )}
        <Field label="Project" error={apiError?.fieldMessage("project_id")}>
          {(props) => (
            <select {...props} value={projectId} onChange={(e) => setProjectId(e.target.value)}>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="grid">
          {fields.map((field) => (
            <div key={field.name} className={field.kind === "textarea" ? "span-all" : undefined}>
              <BriefInput field={field} value={values[field.name] ?? ""} project={project}
                error={briefError(field.name)}
                onChange={(value) => setValues((current) => ({ ...current, [field.name]: value }))} />
            </div>
          ))}
        </div>
        <div id="estimate-note" aria-live="polite" data-testid="estimate">
          {estimate ? (
            <p className="hint">
              Estimated cost: <strong>{estimate.estimated_cost_usd === null
                ? `unknown (no price for ${estimate.unpriced_models.join(", ")})`
                : usd(estimate.estimated_cost_usd)}</strong>
              {" · "}time: <strong>about {formatSeconds(estimate.estimated_seconds)}</strong>
              {estimate.model_calls > 0 && ` · ${estimate.model_calls} model calls`}
              {!estimate.within_plan && " · your plan would refuse this brief (length or monthly limit)"}
              <br />
              <span className="muted">{estimate.assumptions}</span>
            </p>
          ) : (
            <p className="hint">Estimate the cost and time of this brief before you start it; nothing is used up.</p>
          )}
        </div>
        <div className="actions">
          <button type="button" onClick={estimateBrief} disabled={busy}>
            Estimate cost and time
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Starting…" : "Start writing"}
          </button>
        </div>
      </form>
    </>
  );
}
