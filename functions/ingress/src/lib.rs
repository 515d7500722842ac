//! Maps a Lambda HTTP request (Function URL or API Gateway HTTP API) onto
//! [`shared::ingress::Ingress`] and its reply back. `leave-sync dev` calls this same
//! function, so local runs exercise the production code path.

use lambda_http::{Body, Request, Response, http::header::CONTENT_TYPE};
use shared::ingress::Ingress;

pub async fn handle(ingress: &Ingress, req: Request) -> Result<Response<Body>, lambda_http::Error> {
    // lambda_http has already base64-decoded the body when `isBase64Encoded` is set.
    let reply = ingress.handle(req.body().as_ref(), req.headers()).await;
    Ok(Response::builder()
        .status(reply.status)
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::Text(reply.body))?)
}
