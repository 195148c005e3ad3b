// A job's progress as a subscription. Pushed over the WebSocket API when it can be (same origin, `/ws`): the
// pipeline posts every stage start and end, each drafted segment and the job's end. When the socket cannot open
// or drops, it polls `/jobs/{id}/status` about once a second instead, and tries the socket again a few times.
// The job view only calls `watchJob` and reads `JobSnapshot`s, whichever way they came.
import { api, ApiError, currentAccessToken, type Job, type JobStatus } from "./api";

export const POLL_INTERVAL_MS = 1000;
const RECONNECT_DELAYS_MS = [2000, 5000, 15000];
const BEARER_PROTOCOL = "narraforge.bearer";
const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);
// Messages after which the per-stage usage (tokens, cost, duration) has changed: the job is read once more.
const STAGE_ENDS = new Set(["stage_finished", "job_completed", "job_failed", "job_cancelled"]);

export interface JobSnapshot {
  status: JobStatus;
  job: Job;
}

/** How updates arrive: pushed over the socket, or polled. `pushes` counts the progress messages received. */
export interface Channel {
  mode: "live" | "polling";
  pushes: number;
}

interface PushedMessage {
  event: string;
  job_id: string;
  status?: JobStatus;
  tokens_used?: number;
}

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

export function socketUrl(): string {
  return `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}/ws`;
}

/** Calls `onUpdate` with the job's state now and after every change until it ends; returns the unsubscribe. */
export function watchJob(
  jobId: string,
  onUpdate: (snapshot: JobSnapshot) => void,
  onError: (error: ApiError) => void,
  onChannel: (channel: Channel) => void = () => {},
): () => void {
  let stopped = false;
  let finished = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let socket: WebSocket | null = null;
  let live = false;
  let reconnects = 0;
  let pushes = 0;
  let snapshot: JobSnapshot | null = null;
  let last = "";

  const publish = (next: JobSnapshot) => {
    // A read started before a push can answer after it: an older state of the job never replaces a newer one.
    if (snapshot && Date.parse(next.status.updated_at) < Date.parse(snapshot.status.updated_at)) return;
    if (snapshot && !isTerminal(next.status.status) &&
        next.status.progress_percentage < snapshot.status.progress_percentage) return;
    snapshot = next;
    if (isTerminal(next.status.status)) finished = true;
    const fingerprint = JSON.stringify([next.status, next.job.tokens_used, next.job.stages]);
    if (fingerprint !== last) {
      last = fingerprint;
      onUpdate(next);
    }
  };

  const read = async () => {
    const [status, job] = await Promise.all([
      api<JobStatus>(`/jobs/${encodeURIComponent(jobId)}/status`),
      api<Job>(`/jobs/${encodeURIComponent(jobId)}`),
    ]);
    if (!stopped) publish({ status, job });
  };

  const fail = (error: unknown) => {
    if (stopped) return;
    onError(error instanceof ApiError ? error : new ApiError(0, { detail: String(error) }));
  };

  const tick = async () => {
    timer = undefined;
    if (stopped || live) return;
    try {
      await read();
    } catch (error) {
      fail(error);
      if (error instanceof ApiError && (error.status === 404 || error.status === 401)) return;
    }
    if (!stopped && !live && !finished) timer = setTimeout(tick, POLL_INTERVAL_MS);
  };

  const poll = () => {
    if (timer === undefined && !stopped && !finished) void tick();
  };

  const onPush = (message: PushedMessage) => {
    if (message.event === "subscribed") {
      live = true;
      reconnects = 0;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      onChannel({ mode: "live", pushes });
      void read().catch(fail); // the per-stage usage, once; then every change is pushed
      return;
    }
    if (message.event === "error" || !message.status) {
      socket?.close(); // refused (or not a progress message): polling takes over
      return;
    }
    pushes += 1;
    onChannel({ mode: "live", pushes });
    if (snapshot) {
      const status = message.status;
      publish({ status, job: { ...snapshot.job, ...status, tokens_used: message.tokens_used ?? snapshot.job.tokens_used } });
    }
    if (STAGE_ENDS.has(message.event)) void read().catch(fail);
    if (isTerminal(message.status.status)) socket?.close();
  };

  const connect = () => {
    const token = currentAccessToken();
    if (stopped || finished || !token || typeof WebSocket === "undefined") return;
    let opened: WebSocket;
    try {
      opened = new WebSocket(socketUrl(), [BEARER_PROTOCOL, token]);
    } catch {
      return;
    }
    socket = opened;
    opened.onopen = () => opened.send(JSON.stringify({ action: "subscribe", job_id: jobId }));
    opened.onmessage = (event: MessageEvent) => {
      try {
        onPush(JSON.parse(String(event.data)) as PushedMessage);
      } catch {
        opened.close();
      }
    };
    opened.onclose = () => {
      if (socket === opened) socket = null;
      const wasLive = live;
      live = false;
      if (stopped || finished) return;
      if (wasLive) onChannel({ mode: "polling", pushes });
      poll(); // the socket dropped or never opened: poll, and try the socket again later
      if (reconnects < RECONNECT_DELAYS_MS.length) setTimeout(connect, RECONNECT_DELAYS_MS[reconnects++]);
    };
  };

  onChannel({ mode: "polling", pushes });
  void tick(); // the state now (and polling until the socket answers `subscribed`)
  connect();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    socket?.close();
  };
}
