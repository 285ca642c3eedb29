//! Uploading a version: the parts of the form as they arrive (with the size
//! caps enforced chunk by chunk), their checks, and storing the version with
//! its queued test run.
//!
//! The upload path is the test pipeline's entry: the module bytes are read
//! once into one buffer, shared with the validator, and copied once into
//! the blob store.

use std::sync::Arc;

use domain::{OrderStatus, VersionStatus};
use store::entity::{apps, orders, versions};

use super::{not_yours, vendor_org};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// Longest release notes.
pub const MAX_NOTES_CHARS: usize = 4_000;
/// Longest app name.
pub const MAX_NAME_CHARS: usize = 80;

/// An upload as received.
#[derive(Debug, Default)]
pub struct Upload {
    pub name: String,
    pub release_notes: String,
    pub wasm: Vec<u8>,
}

/// The parts an upload form has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    Wasm,
    Name,
    ReleaseNotes,
}

impl PartKind {
    /// The part named `name`; an unknown part is refused by name.
    pub fn of(name: &str) -> ServiceResult<PartKind> {
        match name {
            "wasm" => Ok(PartKind::Wasm),
            "name" => Ok(PartKind::Name),
            "release_notes" => Ok(PartKind::ReleaseNotes),
            other => Err(ServiceError::invalid(
                other.to_owned(),
                Msg::new("err.apps.unknown_part").arg("part", other),
            )),
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            PartKind::Wasm => "wasm",
            PartKind::Name => "name",
            PartKind::ReleaseNotes => "release_notes",
        }
    }
}

/// An upload being read part by part, chunk by chunk: a module over `cap`
/// bytes is refused as soon as it is exceeded (the rest of the body need
/// not be read). No other checks, so a form can be shown again as filled in.
#[derive(Debug)]
pub struct UploadParts {
    up: Upload,
    cap: usize,
    text: Vec<u8>,
}

impl UploadParts {
    pub fn new(cap: usize) -> UploadParts {
        UploadParts {
            up: Upload::default(),
            cap,
            text: Vec::new(),
        }
    }

    /// The next chunk of `part`.
    pub fn push(&mut self, part: PartKind, chunk: &[u8]) -> ServiceResult<()> {
        match part {
            PartKind::Wasm => {
                if self.up.wasm.len() + chunk.len() > self.cap {
                    return Err(ServiceError::TooLarge(
                        Msg::new("err.apps.module_too_large").arg("max", self.cap),
                    ));
                }
                self.up.wasm.extend_from_slice(chunk);
            }
            PartKind::Name | PartKind::ReleaseNotes => {
                if self.text.len() + chunk.len() > MAX_NOTES_CHARS * 4 {
                    return Err(ServiceError::invalid(
                        part.field(),
                        Msg::new("err.apps.part_too_long").arg("part", part.field()),
                    ));
                }
                self.text.extend_from_slice(chunk);
            }
        }
        Ok(())
    }

    /// `part` is complete.
    pub fn end(&mut self, part: PartKind) -> ServiceResult<()> {
        if part == PartKind::Wasm {
            return Ok(());
        }
        let text = String::from_utf8(std::mem::take(&mut self.text)).map_err(|_| {
            ServiceError::invalid(
                part.field(),
                Msg::new("err.apps.part_not_utf8").arg("part", part.field()),
            )
        })?;
        if part == PartKind::Name {
            self.up.name = text;
        } else {
            self.up.release_notes = text;
        }
        Ok(())
    }

    /// The parts as sent.
    pub fn finish(self) -> Upload {
        self.up
    }
}

/// An upload's presence and length checks: a module, a name, short notes.
pub fn check_upload(mut up: Upload) -> ServiceResult<Upload> {
    if up.wasm.is_empty() {
        return Err(ServiceError::invalid(
            "wasm",
            Msg::new("err.apps.wasm_required"),
        ));
    }
    let name = up.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::invalid(
            "name",
            Msg::new("err.apps.name_length").arg("max", MAX_NAME_CHARS),
        ));
    }
    up.name = name.to_owned();
    if up.release_notes.chars().count() > MAX_NOTES_CHARS {
        return Err(ServiceError::invalid(
            "release_notes",
            Msg::new("err.apps.notes_too_long").arg("max", MAX_NOTES_CHARS),
        ));
    }
    Ok(up)
}

/// The module size cap for an upload to this order: its contract's limit,
/// but never above the platform's upload limit (`GOVMARKET_UPLOAD_LIMIT_BYTES`).
pub async fn module_cap(services: &Services, order_id: i64) -> ServiceResult<usize> {
    let contract = crate::appdata::contract_for_order(&services.db, order_id).await?;
    Ok(cap_of(services, &contract))
}

fn cap_of(services: &Services, contract: &sandbox::Contract) -> usize {
    let limits = services.sandbox.resolve(&contract.limits);
    usize::try_from(limits.module_bytes)
        .unwrap_or(usize::MAX)
        .min(services.config.upload_limit_bytes)
}

/// What the upload form needs besides the user's input.
#[derive(Debug)]
pub struct UploadForm {
    pub order: orders::Model,
    /// Open for uploads.
    pub open: bool,
    /// The app a version is added to; `None` for a new app.
    pub app: Option<apps::Model>,
    /// The ISV's other active apps on this order.
    pub choices: Vec<apps::Model>,
    /// The module size cap.
    pub cap: usize,
}

/// The order (published, visible) and the chosen app (the ISV's own, of
/// this order) an upload goes to.
pub async fn upload_form(
    services: &Services,
    actor: &Actor,
    order_id: i64,
    app_id: Option<i64>,
) -> ServiceResult<UploadForm> {
    let (_, org) = vendor_org(actor)?;
    let conn = services.db.conn();
    let order = store::orders::published(conn, order_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Order))?;
    let app = match app_id {
        None => None,
        Some(id) => match store::apps::get(conn, id).await? {
            Some(a) if a.isv_org_id != org => return Err(not_yours()),
            Some(a) if a.order_id == order_id => Some(a),
            _ => return Err(ServiceError::NotFound(Thing::App)),
        },
    };
    let contract = crate::appdata::contract_of(&order)?;
    let cap = cap_of(services, &contract);
    let choices = store::apps::list(conn, Some(org), Some(order_id))
        .await?
        .into_iter()
        .filter(|a| a.status == "active" && app.as_ref().is_none_or(|c| c.id != a.id))
        .collect();
    Ok(UploadForm {
        open: order.is(OrderStatus::Open),
        order,
        app,
        choices,
        cap,
    })
}

/// What becomes of a module the sandbox refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRejection {
    /// Stored as a `rejected` version with the reason when the upload adds
    /// a version to an existing app (the API: the ISV reads the reason on the
    /// version); refused like [`OnRejection::Refuse`] when it would create a
    /// new app, so a bad first upload leaves no app behind.
    Keep,
    /// Refused as `invalid_module`, nothing stored (the browser: the ISV
    /// is told at once beside the file input).
    Refuse,
}

/// Stores an uploaded version and queues its test run (ISV).
pub async fn upload(
    services: &Services,
    actor: &Actor,
    order_id: i64,
    up: Upload,
    on_rejection: OnRejection,
) -> ServiceResult<(apps::Model, versions::Model)> {
    let (user, org) = vendor_org(actor)?;
    let uploaded_by = user.id;
    let up = check_upload(up)?;
    let conn = services.db.conn();
    let order = crate::orders::open_order(conn, order_id, "err.apps.order_not_open").await?;
    if order.deadline.is_some_and(|d| d <= store::now()) {
        return Err(ServiceError::conflict(
            "deadline_passed",
            Msg::new("err.apps.deadline_passed"),
        ));
    }
    // Cheap checks first, so a refused upload costs no compilation.
    let existing = store::apps::find_by_name(conn, order_id, &up.name).await?;
    if let Some(app) = &existing {
        check_can_add_version(conn, app, org).await?;
    }
    let contract = crate::appdata::contract_of(&order)?;
    let sandbox = services.sandbox.clone();
    let limits = contract.limits.clone();
    let wasm = Arc::<[u8]>::from(up.wasm);
    let validated = {
        let wasm = Arc::clone(&wasm);
        tokio::task::spawn_blocking(move || sandbox.validate(&wasm, &limits)).await?
    };
    let (status, reason) = match &validated {
        Ok(_) => (VersionStatus::Queued, None),
        Err(rejection) if on_rejection == OnRejection::Refuse || existing.is_none() => {
            return Err(ServiceError::unprocessable(
                "invalid_module",
                Msg::new("err.apps.invalid_module").arg("detail", rejection),
            ));
        }
        Err(rejection) => (VersionStatus::Rejected, Some(rejection.to_string())),
    };
    let sha256 = sandbox::Sandbox::sha256_hex(&wasm);
    let total_cases = i32::try_from(store::orders::cases(conn, order_id).await?.len())
        .map_err(ServiceError::internal)?;

    let txn = services.db.begin_write().await?;
    let app = match store::apps::find_by_name(&txn, order_id, &up.name).await? {
        Some(app) => {
            check_can_add_version(&txn, &app, org).await?;
            app
        }
        None => store::apps::create(&txn, order_id, org, &up.name)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict { .. } => {
                    ServiceError::conflict("name_taken", Msg::new("err.apps.name_exists"))
                }
                other => other.into(),
            })?,
    };
    store::apps::put_blob(&txn, &sha256, wasm.to_vec()).await?;
    let version = store::apps::add_version(
        &txn,
        store::apps::NewVersion {
            app_id: app.id,
            sha256: sha256.clone(),
            size_bytes: i64::try_from(wasm.len()).map_err(ServiceError::internal)?,
            release_notes: up.release_notes.trim().to_owned(),
            status,
            status_reason: reason.clone(),
            uploaded_by,
        },
    )
    .await?;
    if status == VersionStatus::Queued {
        store::pipeline::enqueue_run(&txn, version.id, "upload", total_cases).await?;
    }
    store::audit::append(
        &txn,
        actor.audit(
            "version.upload",
            "version",
            version.id,
            match &reason {
                None => format!(
                    "上传应用「{}」第 {} 版（sha256 {}），已排队测试",
                    app.name,
                    version.number,
                    &sha256[..12]
                ),
                Some(r) => format!(
                    "上传应用「{}」第 {} 版，模块被拒绝：{r}",
                    app.name, version.number
                ),
            },
        ),
    )
    .await?;
    txn.commit().await?;
    if status == VersionStatus::Queued {
        services.jobs.queued();
    }
    Ok((app, version))
}

/// What the API answers an upload with: the app and the new version.
pub async fn uploaded(
    services: &Services,
    app: apps::Model,
    version: versions::Model,
) -> ServiceResult<super::UploadResult> {
    let version = super::version_view(services, &app, version, super::Viewer::Isv).await?;
    let app = super::app_view(services, app).await?;
    Ok(super::UploadResult { app, version })
}

/// An existing app takes a new version only from its own vendor, while it is
/// active, and when no run of it is in flight.
async fn check_can_add_version<C: sea_orm::ConnectionTrait>(
    conn: &C,
    app: &apps::Model,
    org: i64,
) -> ServiceResult<()> {
    if app.isv_org_id != org {
        return Err(ServiceError::conflict(
            "name_taken",
            Msg::new("err.apps.name_taken"),
        ));
    }
    if app.status != "active" {
        return Err(ServiceError::conflict(
            "app_not_active",
            Msg::new("err.apps.upload_app_not_active"),
        ));
    }
    let ids: Vec<i64> = store::apps::versions_of(conn, app.id)
        .await?
        .iter()
        .map(|v| v.id)
        .collect();
    if store::pipeline::any_in_flight(conn, &ids).await? {
        return Err(ServiceError::conflict(
            "run_in_flight",
            Msg::new("err.apps.run_in_flight"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_over_the_cap_is_refused_at_the_chunk_that_exceeds_it() {
        let mut parts = UploadParts::new(10);
        parts.push(PartKind::Wasm, &[0; 6]).unwrap();
        let e = parts.push(PartKind::Wasm, &[0; 5]).unwrap_err();
        assert!(matches!(e, ServiceError::TooLarge(m) if m.args == [("max", "10".into())]));
    }

    #[test]
    fn parts_are_read_by_name_and_checked_as_a_whole() {
        assert!(matches!(
            PartKind::of("is_admin"),
            Err(ServiceError::Invalid { field, .. }) if field == "is_admin"
        ));
        let mut parts = UploadParts::new(100);
        for (part, bytes) in [
            (PartKind::Name, "  社保查询 ".as_bytes()),
            (PartKind::ReleaseNotes, b"v1".as_slice()),
            (PartKind::Wasm, b"\0asm".as_slice()),
        ] {
            parts.push(part, bytes).unwrap();
            parts.end(part).unwrap();
        }
        let up = check_upload(parts.finish()).unwrap();
        assert_eq!(up.name, "社保查询");
        assert_eq!(up.release_notes, "v1");
        assert_eq!(up.wasm, b"\0asm");

        let mut parts = UploadParts::new(100);
        parts.push(PartKind::Name, &[0xff, 0xfe]).unwrap();
        assert_eq!(parts.end(PartKind::Name).unwrap_err().field(), Some("name"));
        let e = check_upload(Upload::default()).unwrap_err();
        assert_eq!(e.field(), Some("wasm"));
    }
}
