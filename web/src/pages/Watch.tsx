// A job as it runs: the ten stages, drafting progress, tokens and cost so far, elapsed time, cancel and resume.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { api, humanize, STAGES, usd, type ApiError, type Job } from "../api";
import { isTerminal, watchJob, type Channel, type JobSnapshot } from "../progress";
import { Announcer, ErrorMessage, Loading, PageTitle } from "../ui";

type StageState = "waiting" | "running" | "done" | "failed";

function stageStates(snapshot: JobSnapshot): Record<string, StageState> {
  const { status, job } = snapshot;
  const done = new Set(status.completed_stages);
  const firstOpen = STAGES.find((stage) => !done.has(stage));
  return Object.fromEntries(
    STAGES.map((stage) => {
      if (done.has(stage)) return [stage, "done"];
      if (status.status === "FAILED" && (job.failed_stage ?? firstOpen) === stage) return [stage, "failed"];
      if (status.status === "RUNNING" && stage === firstOpen) return [stage, "running"];
      return [stage, "waiting"];
    }),
  );
}

function elapsedSeconds(job: Job, now: number): number | null {
  if (!job.started_at) return null;
  const end = job.completed_at ? Date.parse(job.completed_at) : now;
  return Math.max(0, (end - Date.parse(job.started_at)) / 1000);
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return "not started";
  const whole = Math.round(seconds);
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

export function Watch() {
  const { jobId = "" } = useParams();
  const [snapshot, setSnapshot] = useState<JobSnapshot | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [announcement, setAnnouncement] = useState("");
  const [now, setNow] = useState(Date.now());
  const [generation, setGeneration] = useState(0);
  const [channel, setChannel] = useState<Channel>({ mode: "polling", pushes: 0 });

  useEffect(() => {
    let previous: JobSnapshot | null = null;
    return watchJob(
      jobId,
      (next) => {
        setError(null);
        setSnapshot(next);
        const finished = next.status.completed_stages.filter((s) => !previous?.status.completed_stages.includes(s));
        if (!previous || previous.status.status !== next.status.status) {
          setAnnouncement(`Job ${next.status.status.toLowerCase()}.`);
        } else if (finished.length) {
          setAnnouncement(`${finished.map(humanize).join(", ")} done.`);
        }
        previous = next;
      },
      (caught: ApiError) => setError(caught),
      setChannel,
    );
  }, [jobId, generation]);

  const running = snapshot !== null && !isTerminal(snapshot.status.status);
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);

  const act = async (action: "cancel" | "resume") => {
    try {
      await api<Job>(`/jobs/${jobId}/${action}`, { method: "POST" });
      setGeneration((n) => n + 1);
    } catch (caught) {
      setError(caught);
    }
  };

  if (!snapshot) return error ? <ErrorMessage error={error} /> : <Loading what="the job" />;
  const { status, job } = snapshot;
  const states = stageStates(snapshot);
  const progress = Math.round(status.progress_percentage);
  const subject = String(job.production_brief.subject ?? "");
  return (
    <>
      <PageTitle>{`Writing: ${job.production_brief.title ?? humanize(String(job.production_brief.production_type))}`}</PageTitle>
      <p className="muted">{subject}</p>
      <Announcer message={announcement} />
      <ErrorMessage error={error} />
      <section className="card" aria-labelledby="progress-heading">
        <h2 id="progress-heading">
          Progress: <span className={`status status-${status.status.toLowerCase()}`}>{humanize(status.status.toLowerCase())}</span>
        </h2>
        <div className="progress" role="progressbar" aria-label="Job progress" aria-valuemin={0} aria-valuemax={100}
          aria-valuenow={progress} aria-valuetext={`${progress}%`}>
          <div className="progress-fill" style={{ width: `${progress}%` }} />
        </div>
        <p className="progress-label">
          {progress}%{" "}
          <span className={`channel channel-${channel.mode}`} data-testid="channel" data-pushes={channel.pushes}>
            {channel.mode === "live" ? "live" : "checking every second"}
          </span>
        </p>
        <dl className="stats">
          <div>
            <dt>Segments drafted</dt>
            <dd data-testid="segments">
              {status.segments_total == null
                ? "not planned yet"
                : `${status.segments_drafted} of ${status.segments_total}`}
            </dd>
          </div>
          <div>
            <dt>Tokens so far</dt>
            <dd data-testid="tokens">{job.tokens_used.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Cost so far</dt>
            <dd data-testid="cost">{usd(status.actual_cost_usd)}</dd>
          </div>
          <div>
            <dt>Estimated cost</dt>
            <dd>{usd(status.estimated_cost_usd)}</dd>
          </div>
          <div>
            <dt>Elapsed</dt>
            <dd>{formatDuration(elapsedSeconds(job, now))}</dd>
          </div>
          <div>
            <dt>Engine</dt>
            <dd>{job.provider === "offline" ? "offline (demo text)" : (job.provider ?? "—")}</dd>
          </div>
        </dl>
        {status.error_message && (
          <p className="alert" role="alert">
            {status.error_message}
          </p>
        )}
        <p className="actions">
          {status.narrative_id && status.status === "COMPLETED" && (
            <Link className="button primary" to={`/read/${status.narrative_id}`}>
              Read the story
            </Link>
          )}
          {running && (
            <button type="button" className="danger" onClick={() => void act("cancel")}>
              Cancel job
            </button>
          )}
          {status.can_resume && (
            <button type="button" className="primary" onClick={() => void act("resume")}>
              Resume job
            </button>
          )}
        </p>
      </section>
      <section aria-labelledby="stages-heading">
        <h2 id="stages-heading">Stages</h2>
        <ol className="stages">
          {STAGES.map((stage) => {
            const usage = job.stages.find((s) => s.stage === stage);
            return (
              <li key={stage} className={`stage stage-${states[stage]}`}>
                <span className="stage-name">{humanize(stage)}</span>
                <span className="stage-state">{states[stage]}</span>
                {usage && (
                  <span className="stage-usage muted">
                    {(usage.prompt_tokens + usage.completion_tokens).toLocaleString()} tokens · {usd(usage.cost_usd)} ·{" "}
                    {usage.duration_seconds.toFixed(1)} s
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      </section>
    </>
  );
}
