//! A product's images: admins upload them (the file's bytes as the body), set their
//! order and alt text and remove them; anyone fetches an image by its content hash.

use serde::Deserialize;
use spinshop_kit::http::request::path_id;
use spinshop_kit::http::response::CACHE_IMMUTABLE;
use spinshop_kit::http::routes::{Admin, Params};
use spinshop_kit::pg::db::Db;
use spinshop_kit::{ApiError, ApiRequest, ApiResponse, ApiResult};

use super::{no_such_product, parse_product_id};
use crate::domain::image::{
    ImagePatch, ImagePatchFields, ImageUpload, MAX_IMAGES_PER_PRODUCT, parse_alt, parse_image_name,
};
use crate::store::{self, Added};

/// `PATCH /products/{id}/images/{image_id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImagePatchBody {
    alt: Option<String>,
    position: Option<i64>,
}

/// `POST /products/{id}/images?alt=` (admin), the body the image file's bytes (PNG,
/// JPEG or WebP, told by its content; the Content-Type is not read) -> 201 with the
/// image, last in the product's order. Over 2 MiB: 413; another kind of file: 415; a
/// damaged or cut-off one, or one outside 1..4096 pixels each way: 422; the product
/// already shows 8 images: 409 `too_many_images`. Nothing is stored on refusal.
pub async fn upload_image(req: &ApiRequest, id: &str, _: Admin) -> ApiResult<ApiResponse> {
    let id = parse_product_id(id)?;
    let alt = parse_alt(req.query("alt").unwrap_or_default())?;
    let upload = ImageUpload::parse(req.body().to_vec())?;
    match store::add_image(&Db::connect(req).await?, id, &upload, &alt).await? {
        Added::Image(image) => {
            Ok(ApiResponse::created(&image)?.with_header("location", &image.url))
        }
        Added::NoSuchProduct => Err(no_such_product(id)),
        Added::Full => Err(ApiError::conflict(
            "too_many_images",
            format!(
                "product {id} already shows {MAX_IMAGES_PER_PRODUCT} images, the most it may: \
                 delete one first"
            ),
        )),
    }
}

/// `PATCH /products/{id}/images/{image_id}` (admin) `{alt?, position?}` -> 200 with
/// the image. `position` 0 is first; a position past the last moves it last, and the
/// images in between move by one.
pub async fn update_image(req: &ApiRequest, path: Params<'_>, _: Admin) -> ApiResult<ApiResponse> {
    let (id, image_id) = image_path(path)?;
    let body: ImagePatchBody = req.json()?;
    let patch = ImagePatch::parse(ImagePatchFields {
        alt: body.alt.as_deref(),
        position: body.position,
    })?;
    let image = store::update_image(&Db::connect(req).await?, id, image_id, &patch)
        .await?
        .ok_or_else(|| no_such_image(id, image_id))?;
    ApiResponse::ok(&image)
}

/// `DELETE /products/{id}/images/{image_id}` (admin) -> 204; the images after it
/// move up. The file goes too once no product shows it.
pub async fn delete_image(req: &ApiRequest, path: Params<'_>, _: Admin) -> ApiResult<ApiResponse> {
    let (id, image_id) = image_path(path)?;
    if store::delete_image(&Db::connect(req).await?, id, image_id).await? {
        Ok(ApiResponse::no_content())
    } else {
        Err(no_such_image(id, image_id))
    }
}

/// `GET /images/{sha256}.{png|jpg|webp}`: the file, with its type, `ETag` (its
/// hash) and `Cache-Control: public, max-age=31536000, immutable`: the URL names the
/// bytes, so they never change under it. A matching `If-None-Match`: 304, and the
/// bytes are not even read.
pub async fn serve_image(req: &ApiRequest, name: &str) -> ApiResult<ApiResponse> {
    let no_such_image = || ApiError::not_found(format!("no image {name}"));
    let (sha256, format) = parse_image_name(name).ok_or_else(no_such_image)?;
    let etag = format!("\"{sha256}\"");
    let unchanged = req.if_none_match(&[&etag]);
    let file = store::image_file(&Db::connect(req).await?, sha256, !unchanged)
        .await?
        .filter(|file| file.format == format)
        .ok_or_else(no_such_image)?;
    let response = match file.bytes {
        Some(bytes) => ApiResponse::bytes(format.content_type(), bytes),
        None => ApiResponse::not_modified(),
    };
    Ok(response
        .with_header("etag", &etag)
        .with_header("cache-control", CACHE_IMMUTABLE))
}

/// The product and image ids of `products/{id}/images/{image_id}`; anything that is
/// not an id names nothing (404).
fn image_path(path: Params) -> ApiResult<(i64, i64)> {
    let [id, image_id] = path else {
        return Err(ApiError::internal("an image route without two ids"));
    };
    let image_id = path_id(image_id, || {
        ApiError::not_found(format!("no image with id {image_id}"))
    })?;
    Ok((parse_product_id(id)?, image_id))
}

fn no_such_image(product_id: i64, image_id: i64) -> ApiError {
    ApiError::not_found(format!("product {product_id} has no image {image_id}"))
}
