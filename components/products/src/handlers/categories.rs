//! Categories: anyone reads the tree, admins create, rename, move and delete them.

use serde::Deserialize;
use spinshop_kit::http::request::nullable;
use spinshop_kit::http::routes::Admin;
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiRequest, ApiResponse, ApiResult};

use crate::domain::{CategoryPatch, NewCategory, Slug, category_tree, no_such_category};
use crate::store;

/// `POST /categories`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryBody {
    slug: String,
    name: String,
    parent: Option<String>,
}

/// `PATCH /categories/{slug}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryPatchBody {
    name: Option<String>,
    /// null makes the category top-level.
    #[serde(default, deserialize_with = "nullable")]
    parent: Option<Option<String>>,
}

/// A slug taken from the path: one that can't be a slug names no category.
fn path_slug(raw: &str) -> ApiResult<Slug> {
    Slug::parse(raw, "slug").map_err(|_| no_such_category(raw))
}

/// `GET /categories` -> the tree: top-level categories by name, each with the
/// categories under it (`children`), every one with its `count` of products that
/// are not archived (a top-level category's including its children's).
pub async fn list_categories(req: &ApiRequest) -> ApiResult<ApiResponse> {
    let categories = store::list_categories(&Db::connect(req).await?).await?;
    ApiResponse::ok(&category_tree(categories))
}

/// `POST /categories` (admin) `{slug, name, parent?}` -> 201 category. A slug
/// taken: 409 `slug_taken`; an unknown parent: 400; a parent that is under another
/// category: 409 `category_too_deep`.
pub async fn create_category(req: &ApiRequest, _: Admin) -> ApiResult<ApiResponse> {
    let body: CategoryBody = req.json()?;
    let category = NewCategory::parse(&body.slug, &body.name, body.parent.as_deref())?;
    ApiResponse::created(&store::insert_category(&Db::connect(req).await?, &category).await?)
}

/// `PATCH /categories/{slug}` (admin) `{name?, parent?}` -> 200 category: renames it,
/// moves it under `parent`, or makes it top-level (`"parent": null`). A move that
/// would nest three levels deep: 409 `category_too_deep`.
pub async fn update_category(req: &ApiRequest, slug: &str, _: Admin) -> ApiResult<ApiResponse> {
    let slug = path_slug(slug)?;
    let body: CategoryPatchBody = req.json()?;
    let patch = CategoryPatch::parse(
        &slug,
        body.name.as_deref(),
        body.parent.as_ref().map(Option::as_deref),
    )?;
    let updated = store::update_category(&Db::connect(req).await?, &slug, &patch)
        .await?
        .ok_or_else(|| no_such_category(slug.as_str()))?;
    ApiResponse::ok(&updated)
}

/// `DELETE /categories/{slug}` (admin) -> 204. One that still holds products: 409
/// `category_not_empty`; one with categories under it: 409 `category_has_children`.
pub async fn delete_category(req: &ApiRequest, slug: &str, _: Admin) -> ApiResult<ApiResponse> {
    let slug = path_slug(slug)?;
    store::delete_category(&Db::connect(req).await?, &slug).await?;
    Ok(ApiResponse::no_content())
}
