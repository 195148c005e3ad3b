// The reader: title (renamable), the text as an <article>, word count, reading time, how it was written and
// judged, exports in five formats.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { api, ApiError, download, EXPORT_FORMATS, humanize, usd, type NarrativeDetail } from "../api";
import { Announcer, ErrorMessage, Field, formatDate, Loading } from "../ui";

const WORDS_PER_MINUTE = 230;
const FORMAT_NAMES: Record<string, string> = { txt: "plain text", md: "Markdown", pdf: "PDF", epub: "EPUB", docx: "Word" };

interface Segment {
  index: number;
  title?: string;
  act?: number;
  word_count?: number;
}

function metricValue(value: unknown): string {
  if (value === null || value === undefined) return "not judged";
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString() : value.toFixed(3);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.join(", ") || "—";
  return String(value);
}

function Paragraphs({ text, headings }: { text: string; headings: Set<string> }) {
  const blocks = text.split(/\n\s*\n/).map((block) => block.trim()).filter(Boolean);
  return (
    <>
      {blocks.map((block, index) => {
        const firstLine = block.split("\n")[0];
        const isHeading = headings.has(firstLine.trim()) || /^(chapter|part|act|scene)\b.{0,80}$/i.test(block);
        return isHeading ? (
          <h2 key={index}>{block}</h2>
        ) : (
          <p key={index}>{block}</p>
        );
      })}
    </>
  );
}

export function Read() {
  const { narrativeId = "" } = useParams();
  const [narrative, setNarrative] = useState<NarrativeDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [title, setTitle] = useState("");
  const [renameError, setRenameError] = useState<unknown>(null);
  const [announcement, setAnnouncement] = useState("");
  const [downloading, setDownloading] = useState<string | null>(null);

  useEffect(() => {
    api<NarrativeDetail>(`/narratives/${narrativeId}`)
      .then((n) => {
        setNarrative(n);
        setTitle(n.title);
      })
      .catch(setError);
  }, [narrativeId]);

  const rename = async (event: FormEvent) => {
    event.preventDefault();
    setRenameError(null);
    try {
      const updated = await api<{ title: string }>(`/narratives/${narrativeId}`, { method: "PATCH", body: { title } });
      setNarrative((current) => (current ? { ...current, title: updated.title } : current));
      setTitle(updated.title);
      setAnnouncement(`Renamed to ${updated.title}.`);
    } catch (caught) {
      setRenameError(caught);
    }
  };

  const exportAs = async (format: string) => {
    setDownloading(format);
    try {
      const name = await download(`/narratives/${narrativeId}/export/${format}`, `story.${format}`);
      setAnnouncement(`Downloaded ${name}.`);
    } catch (caught) {
      setError(caught);
    } finally {
      setDownloading(null);
    }
  };

  if (!narrative) return error ? <ErrorMessage error={error} /> : <Loading what="the story" />;
  const metadata = narrative.narrative_metadata;
  const metrics = narrative.quality_metrics;
  const segments = (Array.isArray(metadata.segments) ? metadata.segments : []) as Segment[];
  const headings = new Set(segments.map((s) => s.title ?? "").filter(Boolean));
  const minutes = Math.max(1, Math.round(narrative.word_count / WORDS_PER_MINUTE));
  const judged = metrics.judged === true;
  const notice = typeof metadata.notice === "string" ? metadata.notice : null;
  return (
    <div className="reader-layout">
      <article className="story" aria-labelledby="story-title">
        <header>
          <p className="muted">
            {humanize(narrative.production_type)} · {humanize(narrative.genre)} · version {narrative.version}
          </p>
          <h1 id="story-title" tabIndex={-1}>
            {narrative.title}
          </h1>
          <p className="muted" data-testid="reading-facts">
            {narrative.word_count.toLocaleString()} words · about {minutes} min read
          </p>
          {notice && <p className="notice">{notice}</p>}
        </header>
        <Paragraphs text={narrative.narrative_text} headings={headings} />
      </article>
      <aside className="reader-side" aria-label="About this story">
        <Announcer message={announcement} />
        <ErrorMessage error={error} />
        <section className="card">
          <h2>Title</h2>
          <form onSubmit={rename} noValidate>
            <ErrorMessage error={renameError} />
            <Field label="Story title"
              error={renameError instanceof ApiError ? renameError.fieldMessage("title") : undefined}>
              {(props) => <input {...props} maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />}
            </Field>
            <button type="submit">Rename story</button>
          </form>
        </section>
        <section className="card">
          <h2>Export</h2>
          <ul className="exports">
            {EXPORT_FORMATS.map((format) => (
              <li key={format}>
                <button type="button" onClick={() => void exportAs(format)} disabled={downloading !== null}>
                  Download {FORMAT_NAMES[format]} (.{format})
                </button>
              </li>
            ))}
          </ul>
        </section>
        <section className="card">
          <h2>Versions</h2>
          <p>
            <Link to={`/read/${narrativeId}/versions`}>Compare versions and regenerate</Link>
          </p>
        </section>
        {segments.length > 0 && (
          <section className="card">
            <h2>Segments</h2>
            <ol className="segments">
              {segments.map((s) => (
                <li key={s.index}>
                  {s.title ?? `Segment ${s.index + 1}`}
                  {s.word_count !== undefined && <span className="muted"> · {s.word_count} words</span>}
                </li>
              ))}
            </ol>
          </section>
        )}
        <section className="card">
          <h2>Quality</h2>
          <p data-testid="quality-source">
            {judged
              ? `Scores judged by a language model (overall score source: ${String(metrics.overall_score_source)}).`
              : "Not judged by a language model: the model-judged scores are empty and only the computed metrics below " +
                `are shown (overall score source: ${String(metrics.overall_score_source ?? "none")}).`}
          </p>
          <table className="metrics">
            <caption className="sr-only">Quality metrics</caption>
            <tbody>
              {Object.entries(metrics)
                .filter(([name]) => name !== "judged" && name !== "overall_score_source")
                .map(([name, value]) => (
                  <tr key={name}>
                    <th scope="row">{humanize(name)}</th>
                    <td>{metricValue(value)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
          <p className="muted">
            Written {formatDate(narrative.created_at)} · {narrative.tokens_used.toLocaleString()} tokens ·{" "}
            {usd(narrative.generation_cost_usd)} · engine {String(metadata.engine ?? "—")}
          </p>
        </section>
      </aside>
    </div>
  );
}
