//! Run metrics reported by pipeline steps (v1 reportMetrics). Each (run, node, name) may be
//! reported once; a repeat is answered per metric, not as an error for the whole request.

use super::Store;
use super::error::StoreError;
use super::query::{Arg, Sql};
use super::rows::MetricRow;

/// A metric to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMetric {
    pub node_id: String,
    pub name: String,
    pub number_value: f64,
    /// `UNSPECIFIED`, `RAW` or `PERCENTAGE`.
    pub format: String,
}

/// The per-metric result (`ReportRunMetricsResponse.ReportRunMetricResult.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricStatus {
    Ok,
    DuplicateReporting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricOutcome {
    pub node_id: String,
    pub name: String,
    pub status: MetricStatus,
}

impl Store {
    /// Records the metrics of one run in one transaction. Already-reported (run, node, name)
    /// triples, including repeats within `metrics`, come back as `DuplicateReporting`; the
    /// rest are inserted. The run must exist.
    pub async fn report_metrics(
        &self,
        run_id: &str,
        metrics: &[NewMetric],
    ) -> Result<Vec<MetricOutcome>, StoreError> {
        let mut tx = self.write_tx().await?;
        let run = sqlx::query("SELECT id FROM runs WHERE id = $1")
            .bind(run_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if run.is_none() {
            return Err(StoreError::not_found("run", run_id));
        }
        let mut outcomes = Vec::with_capacity(metrics.len());
        for m in metrics {
            let done = sqlx::query(
                "INSERT INTO run_metrics (run_id, node_id, name, number_value, format) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id, node_id, name) DO NOTHING",
            )
            .bind(run_id.to_string())
            .bind(m.node_id.clone())
            .bind(m.name.clone())
            .bind(m.number_value)
            .bind(m.format.clone())
            .execute(&mut *tx)
            .await?;
            outcomes.push(MetricOutcome {
                node_id: m.node_id.clone(),
                name: m.name.clone(),
                status: if done.rows_affected() == 1 {
                    MetricStatus::Ok
                } else {
                    MetricStatus::DuplicateReporting
                },
            });
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// The metrics of the given runs (to fill `ApiRun.metrics` for a page of runs), ordered
    /// by run, node and name.
    pub async fn metrics_of_runs(&self, run_ids: &[String]) -> Result<Vec<MetricRow>, StoreError> {
        if run_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new("SELECT ");
        sql.push(MetricRow::COLUMNS)
            .push(" FROM run_metrics WHERE run_id IN (");
        for (i, id) in run_ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.arg(Arg::Text(id.clone()));
        }
        sql.push(") ORDER BY run_id, node_id, name");
        let rows = sql.build().fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(MetricRow::decode)
            .collect::<Result<_, _>>()?)
    }
}
