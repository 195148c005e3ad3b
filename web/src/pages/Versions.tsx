// Versions: the list, a side-by-side word diff of any two, and regeneration with instructions and a from-stage.
import { diffLines, diffSentences, diffWords, type Change } from "diff";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, humanize, raw, type Job, type NarrativeDetail, type NarrativeVersion } from "../api";
import { loadEnum } from "../briefSchema";
import { ErrorMessage, Field, formatDate, Loading, PageTitle } from "../ui";

async function textOf(narrativeId: string, version: number): Promise<string> {
  const response = await raw(`/narratives/${narrativeId}/text?version=${version}`, { headers: { Accept: "text/plain" } });
  return response.text();
}

// Word by word when that is quick; two very different long versions fall back to sentences, then paragraphs,
// so the page never hangs on a quadratic diff.
const DIFF_BUDGET_MS = 800;

function compare(a: string, b: string): { changes: Change[]; unit: string } {
  const words = diffWords(a, b, { timeout: DIFF_BUDGET_MS });
  if (words) return { changes: words, unit: "word by word" };
  const sentences = diffSentences(a, b, { timeout: DIFF_BUDGET_MS });
  if (sentences) return { changes: sentences, unit: "sentence by sentence" };
  return { changes: diffLines(a, b), unit: "paragraph by paragraph" };
}

function DiffColumn({ changes, side, version }: { changes: Change[]; side: "old" | "new"; version: number }) {
  return (
    <div className="diff-column">
      <h3>Version {version}</h3>
      <div className="diff-text" tabIndex={0} role="region" aria-label={`Text of version ${version}`}>
        {changes.map((change, index) => {
          if (change.added) return side === "new" ? <ins key={index}>{change.value}</ins> : null;
          if (change.removed) return side === "old" ? <del key={index}>{change.value}</del> : null;
          return <span key={index}>{change.value}</span>;
        })}
      </div>
    </div>
  );
}

export default function Versions() {
  const { narrativeId = "" } = useParams();
  const navigate = useNavigate();
  const [versions, setVersions] = useState<NarrativeVersion[] | null>(null);
  const [title, setTitle] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [left, setLeft] = useState(0);
  const [right, setRight] = useState(0);
  const [changes, setChanges] = useState<{ changes: Change[]; unit: string } | null>(null);
  const [stages, setStages] = useState<string[]>([]);
  const [instructions, setInstructions] = useState("");
  const [fromStage, setFromStage] = useState("segment_generation");
  const [regenError, setRegenError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<NarrativeVersion[]>(`/narratives/${narrativeId}/versions`)
      .then((list) => {
        setVersions(list);
        setLeft(list[0]?.version ?? 0);
        setRight(list[list.length - 1]?.version ?? 0);
      })
      .catch(setError);
    api<NarrativeDetail>(`/narratives/${narrativeId}`)
      .then((n) => setTitle(n.title))
      .catch(setError);
    // output_processing only formats the text: the API refuses it as a starting point.
    void loadEnum("Stage").then((all) => setStages(all.filter((s) => s !== "output_processing")));
  }, [narrativeId]);

  useEffect(() => {
    if (!left || !right) return;
    let current = true;
    setChanges(null);
    Promise.all([textOf(narrativeId, left), textOf(narrativeId, right)])
      .then(([a, b]) => current && setChanges(compare(a, b)))
      .catch(setError);
    return () => {
      current = false;
    };
  }, [narrativeId, left, right]);

  const regenerate = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setRegenError(null);
    try {
      const job = await api<Job>(`/narratives/${narrativeId}/regenerate`, {
        method: "POST",
        headers: { "Idempotency-Key": crypto.randomUUID() },
        body: { instructions: instructions || null, from_stage: fromStage },
      });
      navigate(`/watch/${job.id}`);
    } catch (caught) {
      setRegenError(caught);
      setBusy(false);
    }
  };

  if (error) return <ErrorMessage error={error} />;
  if (!versions) return <Loading what="the versions" />;
  const regenField = (name: string) => (regenError instanceof ApiError ? regenError.fieldMessage(name) : undefined);
  const versionSelect = (label: string, value: number, onChange: (v: number) => void) => (
    <Field label={label}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(Number(e.target.value))}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              Version {v.version}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
  return (
    <>
      <PageTitle>{`Versions of ${title || "the story"}`}</PageTitle>
      <p>
        <Link to={`/read/${narrativeId}`}>Back to the story</Link>
      </p>
      <section aria-labelledby="list-heading">
        <h2 id="list-heading">All versions</h2>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Written</th>
                <th scope="col">Words</th>
                <th scope="col">Score</th>
                <th scope="col">Instructions</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version}>
                  <td>
                    {v.version}
                    {v.is_current && " (current)"}
                  </td>
                  <td>{formatDate(v.created_at)}</td>
                  <td>{v.word_count.toLocaleString()}</td>
                  <td>{v.overall_score === null ? "not judged" : v.overall_score.toFixed(2)}</td>
                  <td>{v.instructions ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="diff-heading">
        <h2 id="diff-heading">Compare</h2>
        <div className="row">
          {versionSelect("Left version", left, setLeft)}
          {versionSelect("Right version", right, setRight)}
        </div>
        {changes === null ? (
          <Loading what="the comparison" />
        ) : (
          <>
            <p className="muted">
              Compared {changes.unit}: <del>removed</del> on the left, <ins>added</ins> on the right.
            </p>
            <div className="diff" data-testid="diff">
              <DiffColumn changes={changes.changes} side="old" version={left} />
              <DiffColumn changes={changes.changes} side="new" version={right} />
            </div>
          </>
        )}
      </section>
      <section className="card" aria-labelledby="regen-heading">
        <h2 id="regen-heading">Regenerate</h2>
        <form onSubmit={regenerate} noValidate>
          <ErrorMessage error={regenError} />
          <Field label="Instructions" error={regenField("instructions")} hint="Up to 2000 characters, e.g. “Make the ending hopeful”.">
            {(props) => (
              <textarea {...props} rows={3} maxLength={2000} value={instructions}
                onChange={(e) => setInstructions(e.target.value)} />
            )}
          </Field>
          <Field label="Start again from stage" error={regenField("from_stage")}
            hint="Earlier stages are reused from the current version, not re-run nor billed.">
            {(props) => (
              <select {...props} value={fromStage} onChange={(e) => setFromStage(e.target.value)}>
                {stages.map((s) => (
                  <option key={s} value={s}>
                    {humanize(s)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Starting…" : "Regenerate story"}
          </button>
        </form>
      </section>
    </>
  );
}
