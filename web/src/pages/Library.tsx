// Projects (list, create) and the newest stories.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, ApiError, humanize, type Narrative, type Page, type Project } from "../api";
import { loadEnum } from "../briefSchema";
import { ErrorMessage, Field, formatDate, Loading, PageTitle } from "../ui";

export function ProjectDefaults({
  genre,
  type,
  onGenre,
  onType,
  error,
}: {
  genre: string;
  type: string;
  onGenre: (value: string) => void;
  onType: (value: string) => void;
  error: unknown;
}) {
  const [genres, setGenres] = useState<string[]>([]);
  const [types, setTypes] = useState<string[]>([]);
  useEffect(() => {
    void loadEnum("Genre").then(setGenres);
    void loadEnum("ProductionType").then(setTypes);
  }, []);
  const fieldError = (name: string) => (error instanceof ApiError ? error.fieldMessage(name) : undefined);
  return (
    <div className="row">
      <Field label="Default production type" error={fieldError("default_production_type")}>
        {(props) => (
          <select {...props} value={type} onChange={(e) => onType(e.target.value)}>
            <option value="">None</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {humanize(t)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Default genre" error={fieldError("default_genre")}>
        {(props) => (
          <select {...props} value={genre} onChange={(e) => onGenre(e.target.value)}>
            <option value="">None</option>
            {genres.map((g) => (
              <option key={g} value={g}>
                {humanize(g)}
              </option>
            ))}
          </select>
        )}
      </Field>
    </div>
  );
}

export function NarrativeList({ narratives }: { narratives: Narrative[] }) {
  if (!narratives.length) return <p className="muted">No stories yet.</p>;
  return (
    <ul className="list">
      {narratives.map((n) => (
        <li key={n.id}>
          <Link to={`/read/${n.id}`}>{n.title}</Link>
          <span className="muted">
            {humanize(n.production_type)} · {humanize(n.genre)} · {n.word_count.toLocaleString()} words · v{n.version}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function Library() {
  const navigate = useNavigate();
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [narratives, setNarratives] = useState<Narrative[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [genre, setGenre] = useState("");
  const [type, setType] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<Page<Project>>("/projects/?page=1&page_size=100")
      .then((page) => setProjects(page.items))
      .catch(setLoadError);
    api<Page<Narrative>>("/narratives/?page=1&page_size=20")
      .then((page) => setNarratives(page.items))
      .catch(setLoadError);
  }, []);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const project = await api<Project>("/projects/", {
        method: "POST",
        body: {
          name,
          description: description || null,
          default_genre: genre || null,
          default_production_type: type || null,
        },
      });
      navigate(`/library/${project.id}`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (field: string) => (error instanceof ApiError ? error.fieldMessage(field) : undefined);

  return (
    <>
      <PageTitle>Library</PageTitle>
      <ErrorMessage error={loadError} />
      <div className="columns">
        <section aria-labelledby="projects-heading">
          <h2 id="projects-heading">Projects</h2>
          {projects === null ? (
            <Loading what="projects" />
          ) : projects.length === 0 ? (
            <p className="muted">No projects yet: create one to start writing.</p>
          ) : (
            <ul className="list">
              {projects.map((p) => (
                <li key={p.id}>
                  <Link to={`/library/${p.id}`}>{p.name}</Link>
                  <span className="muted">
                    {p.narrative_count} {p.narrative_count === 1 ? "story" : "stories"} · created{" "}
                    {formatDate(p.created_at)}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <h2 id="recent-heading">Recent stories</h2>
          <NarrativeList narratives={narratives} />
        </section>
        <section className="card" aria-labelledby="new-project-heading">
          <h2 id="new-project-heading">New project</h2>
          <form onSubmit={create} noValidate>
            <ErrorMessage error={error} />
            <Field label="Project name" error={fieldError("name")}>
              {(props) => (
                <input {...props} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
              )}
            </Field>
            <Field label="Description (optional)" error={fieldError("description")}>
              {(props) => (
                <textarea {...props} rows={2} maxLength={2000} value={description}
                  onChange={(e) => setDescription(e.target.value)} />
              )}
            </Field>
            <ProjectDefaults genre={genre} type={type} onGenre={setGenre} onType={setType} error={error} />
            <button type="submit" className="primary" disabled={busy}>
              Create project
            </button>
          </form>
        </section>
      </div>
    </>
  );
}
