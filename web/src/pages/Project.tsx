// One project: rename, defaults, delete (with its stories), and its stories.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, usd, type Narrative, type Page, type Project } from "../api";
import { Announcer, ErrorMessage, Field, Loading, PageTitle } from "../ui";
import { NarrativeList, ProjectDefaults } from "./Library";

export function ProjectPage() {
  const { projectId = "" } = useParams();
  const navigate = useNavigate();
  const [project, setProject] = useState<Project | null>(null);
  const [narratives, setNarratives] = useState<Narrative[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [name, setName] = useState("");
  const [genre, setGenre] = useState("");
  const [type, setType] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState("");
  const [confirming, setConfirming] = useState(false);

  useEffect(() => {
    api<Project>(`/projects/${projectId}`)
      .then((p) => {
        setProject(p);
        setName(p.name);
        setGenre(p.default_genre ?? "");
        setType(p.default_production_type ?? "");
      })
      .catch(setLoadError);
    api<Page<Narrative>>(`/narratives/?project_id=${encodeURIComponent(projectId)}&page=1&page_size=100`)
      .then((page) => setNarratives(page.items))
      .catch(setLoadError);
  }, [projectId]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved("");
    try {
      const updated = await api<Project>(`/projects/${projectId}`, {
        method: "PATCH",
        body: { name, default_genre: genre || null, default_production_type: type || null },
      });
      setProject(updated);
      setSaved("Project saved.");
    } catch (caught) {
      setError(caught);
    }
  };

  const remove = async () => {
    try {
      await api(`/projects/${projectId}`, { method: "DELETE" });
      navigate("/library");
    } catch (caught) {
      setError(caught);
    }
  };

  if (loadError) return <ErrorMessage error={loadError} />;
  if (!project) return <Loading what="the project" />;
  const fieldError = (field: string) => (error instanceof ApiError ? error.fieldMessage(field) : undefined);
  return (
    <>
      <PageTitle>{project.name}</PageTitle>
      <p className="muted">
        {project.narrative_count} stories · {project.total_word_count.toLocaleString()} words · spent{" "}
        {usd(project.total_cost_usd)}
      </p>
      <p>
        <Link className="button primary" to={`/write?project=${project.id}`}>
          Write a story in this project
        </Link>
      </p>
      <div className="columns">
        <section aria-labelledby="stories-heading">
          <h2 id="stories-heading">Stories</h2>
          <NarrativeList narratives={narratives} />
        </section>
        <section className="card" aria-labelledby="settings-heading">
          <h2 id="settings-heading">Settings</h2>
          <form onSubmit={save} noValidate>
            <ErrorMessage error={error} />
            <Announcer message={saved} />
            <Field label="Project name" error={fieldError("name")}>
              {(props) => (
                <input {...props} required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
              )}
            </Field>
            <ProjectDefaults genre={genre} type={type} onGenre={setGenre} onType={setType} error={error} />
            <button type="submit">Save project</button>
            {saved && <span className="saved"> {saved}</span>}
          </form>
          <h3>Danger zone</h3>
          {confirming ? (
            <div className="confirm" role="group" aria-label="Confirm deletion">
              <p>
                This deletes the project and its {project.narrative_count} stories with all their versions and
                exports. It cannot be undone.
              </p>
              <button type="button" className="danger" onClick={() => void remove()}>
                Delete project and its stories
              </button>{" "}
              <button type="button" onClick={() => setConfirming(false)}>
                Keep project
              </button>
            </div>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirming(true)}>
              Delete project…
            </button>
          )}
        </section>
      </div>
    </>
  );
}
