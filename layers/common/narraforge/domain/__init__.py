"""The job core below the API services and the pipeline: job states, refunds, quotas, tiers, billing, pushes."""
