//! The ingress Lambda handler served over plain HTTP, so Feishu (through a tunnel) or
//! `leave-sync send-event` can post webhooks to a laptop.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use shared::ingress::Ingress;
use shared::webhook::MAX_BODY_BYTES;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{debug, warn};

/// Serves until `shutdown` turns true; connections already accepted finish their request.
pub async fn serve(
    listener: TcpListener,
    ingress: Arc<Ingress>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                warn!("accept failed: {e}");
                continue;
            }
        };
        let ingress = ingress.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| route(ingress.clone(), req));
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                debug!(%peer, "connection ended: {e}");
            }
        });
    }
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

async fn route(
    ingress: Arc<Ingress>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => Ok(json(StatusCode::OK, serde_json::json!({"status": "ok"}))),
        (&Method::POST, "/" | "/webhook/event") => Ok(webhook(ingress, req).await),
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "not_found", "message": "POST Feishu events to /webhook/event"}),
        )),
    }
}

async fn webhook(ingress: Arc<Ingress>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    // Read at most one byte past the limit: enough for the ingress to answer 413.
    let bytes = match Limited::new(body, MAX_BODY_BYTES + 1).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return json(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({"error": "body_too_large", "message": format!("the body exceeds {MAX_BODY_BYTES} bytes")}),
            );
        }
    };
    // The very handler the Lambda runs, on the same request type.
    let lambda_req = http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()));
    match ingress::handle(&ingress, lambda_req).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
        }
        Err(e) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"error": "internal", "message": e.to_string()}),
        ),
    }
}
