//! Pipelines and their versions. A pipeline points at a default version (the one v1 runs
//! use when given only a pipeline ID); the store keeps that pointer valid when versions go.

use serde_json::Value as Json;
use sqlx::{Any, AnyConnection, Transaction};

use super::error::{StoreError, unique_as_exists};
use super::ids::new_id;
use super::query::{ListSpec, list};
use super::rows::{PipelineRow, VersionRow};
use super::{Store, query::Sql};
use crate::list::{ListQuery, Page, Resource};

const PIPELINE: &str = "pipeline";
const VERSION: &str = "pipeline version";

/// A pipeline to create.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewPipeline {
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// '' in single-user mode.
    pub namespace: String,
}

/// A pipeline version to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    pub name: String,
    pub description: String,
    pub parameters: Json,
    pub code_source_url: String,
    /// The Argo Workflow YAML.
    pub manifest: String,
}

impl Store {
    /// Creates a pipeline and, if given, its first version (which becomes the default), in
    /// one transaction: a duplicate name or a bad version leaves nothing behind.
    pub async fn create_pipeline(
        &self,
        new: &NewPipeline,
        first_version: Option<&NewVersion>,
    ) -> Result<(PipelineRow, Option<VersionRow>), StoreError> {
        let now = self.now();
        let mut pipeline = PipelineRow {
            id: new_id(),
            name: new.name.clone(),
            display_name: new.display_name.clone(),
            description: new.description.clone(),
            created_at: now,
            namespace: new.namespace.clone(),
            default_version_id: None,
        };
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO pipelines (id, name, display_name, description, created_at, namespace) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(pipeline.id.clone())
        .bind(pipeline.name.clone())
        .bind(pipeline.display_name.clone())
        .bind(pipeline.description.clone())
        .bind(now)
        .bind(pipeline.namespace.clone())
        .execute(&mut *tx)
        .await
        .map_err(unique_as_exists(PIPELINE, &new.name))?;
        let version = match first_version {
            Some(v) => {
                let version = insert_version(&mut tx, &pipeline.id, v, now).await?;
                set_default(&mut tx, &pipeline.id, Some(&version.id)).await?;
                pipeline.default_version_id = Some(version.id.clone());
                Some(version)
            }
            None => None,
        };
        tx.commit().await?;
        Ok((pipeline, version))
    }

    /// Adds a version to a pipeline; with `make_default` it also becomes the default (what
    /// KFP 1.8 does on upload_version).
    pub async fn add_version(
        &self,
        pipeline_id: &str,
        new: &NewVersion,
        make_default: bool,
    ) -> Result<VersionRow, StoreError> {
        let mut tx = self.write_tx().await?;
        let exists = sqlx::query("SELECT id FROM pipelines WHERE id = $1")
            .bind(pipeline_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::not_found(PIPELINE, pipeline_id));
        }
        let version = insert_version(&mut tx, pipeline_id, new, self.now()).await?;
        if make_default {
            set_default(&mut tx, pipeline_id, Some(&version.id)).await?;
        }
        tx.commit().await?;
        Ok(version)
    }

    pub async fn get_pipeline(&self, id: &str) -> Result<PipelineRow, StoreError> {
        let mut sql = Sql::new("SELECT ");
        sql.push(PipelineRow::COLUMNS)
            .push(" FROM pipelines WHERE id = ")
            .arg(id.into());
        let row = sql.build().fetch_optional(&self.pool).await?;
        let row = row.ok_or_else(|| StoreError::not_found(PIPELINE, id))?;
        Ok(PipelineRow::decode(&row)?)
    }

    pub async fn get_pipeline_by_name(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<PipelineRow, StoreError> {
        let mut sql = Sql::new("SELECT ");
        sql.push(PipelineRow::COLUMNS)
            .push(" FROM pipelines WHERE namespace = ")
            .arg(namespace.into())
            .push(" AND name = ")
            .arg(name.into());
        let row = sql.build().fetch_optional(&self.pool).await?;
        let row = row.ok_or_else(|| StoreError::not_found(PIPELINE, name))?;
        Ok(PipelineRow::decode(&row)?)
    }

    pub async fn get_version(&self, id: &str) -> Result<VersionRow, StoreError> {
        let mut conn = self.pool.acquire().await?;
        fetch_version(&mut conn, id).await
    }

    /// Points the pipeline at one of its own versions.
    pub async fn set_default_version(
        &self,
        pipeline_id: &str,
        version_id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let version = fetch_version(&mut tx, version_id).await?;
        if version.pipeline_id != pipeline_id {
            return Err(StoreError::Invalid(format!(
                "version {version_id} belongs to pipeline {}, not {pipeline_id}",
                version.pipeline_id
            )));
        }
        if !set_default(&mut tx, pipeline_id, Some(version_id)).await? {
            return Err(StoreError::not_found(PIPELINE, pipeline_id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a pipeline. Its versions go with it when `cascade` is set (KFP v1); without
    /// it a pipeline that still has versions is refused (KFP v2 without `cascade=true`).
    pub async fn delete_pipeline(&self, id: &str, cascade: bool) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        if !cascade {
            let any =
                sqlx::query("SELECT id FROM pipeline_versions WHERE pipeline_id = $1 LIMIT 1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            if any.is_some() {
                return Err(StoreError::Invalid(format!(
                    "pipeline {id} still has versions; delete them first or cascade"
                )));
            }
        }
        let done = sqlx::query("DELETE FROM pipelines WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(PIPELINE, id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a version. If it was its pipeline's default, the newest remaining version
    /// (by created_at, then id) becomes the default, or none if it was the last.
    pub async fn delete_version(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let version = fetch_version(&mut tx, id).await?;
        sqlx::query("DELETE FROM pipeline_versions WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE pipelines SET default_version_id = (\
                 SELECT v.id FROM pipeline_versions v WHERE v.pipeline_id = $1 \
                 ORDER BY v.created_at DESC, v.id DESC LIMIT 1) \
             WHERE id = $2 AND default_version_id = $3",
        )
        .bind(version.pipeline_id.clone())
        .bind(version.pipeline_id.clone())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pipelines, optionally only those of one namespace.
    pub async fn list_pipelines(
        &self,
        query: &ListQuery,
        namespace: Option<&str>,
    ) -> Result<Page<PipelineRow>, StoreError> {
        let scope: Vec<(&'static str, &str)> =
            namespace.map(|ns| ("namespace", ns)).into_iter().collect();
        let spec = ListSpec {
            resource: Resource::Pipelines,
            columns: PipelineRow::COLUMNS,
            decode: PipelineRow::decode,
            counts: None,
        };
        list(&self.pool, spec, query, &scope).await
    }

    /// Versions of one pipeline.
    pub async fn list_versions(
        &self,
        query: &ListQuery,
        pipeline_id: &str,
    ) -> Result<Page<VersionRow>, StoreError> {
        let spec = ListSpec {
            resource: Resource::PipelineVersions,
            columns: VersionRow::COLUMNS,
            decode: VersionRow::decode,
            counts: None,
        };
        list(&self.pool, spec, query, &[("pipeline_id", pipeline_id)]).await
    }
}

async fn insert_version(
    tx: &mut Transaction<'static, Any>,
    pipeline_id: &str,
    new: &NewVersion,
    now: i64,
) -> Result<VersionRow, StoreError> {
    let version = VersionRow {
        id: new_id(),
        pipeline_id: pipeline_id.to_string(),
        name: new.name.clone(),
        description: new.description.clone(),
        created_at: now,
        status: "READY".to_string(),
        parameters: new.parameters.clone(),
        code_source_url: new.code_source_url.clone(),
        manifest: new.manifest.clone(),
    };
    sqlx::query(
        "INSERT INTO pipeline_versions (id, pipeline_id, name, description, created_at, status, \
         parameters, code_source_url, manifest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(version.id.clone())
    .bind(version.pipeline_id.clone())
    .bind(version.name.clone())
    .bind(version.description.clone())
    .bind(now)
    .bind(version.status.clone())
    .bind(version.parameters.to_string())
    .bind(version.code_source_url.clone())
    .bind(version.manifest.clone())
    .execute(&mut **tx)
    .await
    .map_err(unique_as_exists(VERSION, &new.name))?;
    Ok(version)
}

/// Sets the default version; false when the pipeline does not exist.
async fn set_default(
    tx: &mut Transaction<'static, Any>,
    pipeline_id: &str,
    version_id: Option<&str>,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE pipelines SET default_version_id = $1 WHERE id = $2")
        .bind(version_id.map(str::to_string))
        .bind(pipeline_id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

async fn fetch_version(conn: &mut AnyConnection, id: &str) -> Result<VersionRow, StoreError> {
    let mut sql = Sql::new("SELECT ");
    sql.push(VersionRow::COLUMNS)
        .push(" FROM pipeline_versions WHERE id = ")
        .arg(id.into());
    let row = sql.build().fetch_optional(&mut *conn).await?;
    let row = row.ok_or_else(|| StoreError::not_found(VERSION, id))?;
    Ok(VersionRow::decode(&row)?)
}
