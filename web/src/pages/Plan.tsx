// This month's usage against the plan, the reset date and the bill of every job that ended (GET /v1/usage).
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { api, humanize, usd, type Usage } from "../api";
import { ErrorMessage, formatDate, Loading, PageTitle } from "../ui";

export function Plan() {
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<Usage>("/usage/?page=1&page_size=100").then(setUsage).catch(setError);
  }, []);
  if (error) return <ErrorMessage error={error} />;
  if (!usage) return <Loading what="your usage" />;
  const limit = usage.generation_limit;
  const share = limit ? Math.min(100, Math.round((usage.generations_used / limit) * 100)) : 0;
  return (
    <>
      <PageTitle>Plan and usage</PageTitle>
      <section className="card">
        <dl className="stats">
          <div>
            <dt>Plan</dt>
            <dd>{humanize(usage.subscription_tier.toLowerCase())}</dd>
          </div>
          <div>
            <dt>Generations in {usage.month}</dt>
            <dd>
              {usage.generations_used} of {limit ?? "unlimited"}
            </dd>
          </div>
          <div>
            <dt>Cost this month</dt>
            <dd>
              {usd(usage.cost_used_usd)}
              {usage.cost_limit_usd !== null && ` of ${usd(usage.cost_limit_usd)}`}
            </dd>
          </div>
          <div>
            <dt>Resets</dt>
            <dd>{formatDate(usage.resets_at)}</dd>
          </div>
        </dl>
        {limit !== null && (
          <div className="progress" role="progressbar" aria-label="Generations used this month" aria-valuemin={0}
            aria-valuemax={limit} aria-valuenow={usage.generations_used}>
            <div className="progress-fill" style={{ width: `${share}%` }} />
          </div>
        )}
      </section>
      <section aria-labelledby="log-heading">
        <h2 id="log-heading">Jobs this month</h2>
        {usage.log.items.length === 0 ? (
          <p className="muted">No job has ended this month.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Ended</th>
                  <th scope="col">Job</th>
                  <th scope="col">Status</th>
                  <th scope="col">Model calls</th>
                  <th scope="col">Tokens</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                {usage.log.items.map((entry) => (
                  <tr key={entry.id}>
                    <td>{formatDate(entry.created_at)}</td>
                    <td>
                      {entry.narrative_id ? (
                        <Link to={`/read/${entry.narrative_id}`}>story</Link>
                      ) : (
                        <Link to={`/watch/${entry.job_id}`}>job</Link>
                      )}
                    </td>
                    <td>{humanize(entry.status.toLowerCase())}</td>
                    <td>{entry.llm_calls}</td>
                    <td>{entry.tokens_used.toLocaleString()}</td>
                    <td>{usd(entry.cost_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
