//! The Aides-territoires client against a real HTTP server on the loopback
//! (hyper, started inside each test), which plays the API: `POST
//! /api/connexion/` checks the API key and hands out tokens, `GET /api/aids/`
//! checks the bearer and serves pages scripted per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use vigie_alerting::sources::aides_territoires::{AidesTerritoiresClient, FetchOutcome, SourceError};
use vigie_alerting_domain::call::Severity;

const KEY: &str = "cle-api-de-test";
/// 250 aids: pages of 100, 100 and 50.
const COUNT: u64 = 250;

/// What the fake API does and saw.
#[derive(Default)]
struct Api {
    /// Tokens handed out, the last one valid.
    issued: Vec<String>,
    /// The current token was revoked (a 401 until a new connexion).
    revoked: bool,
    /// Revoke the token when this page is first asked for.
    revoke_at_page: Option<u32>,
    /// Refuse every bearer (an API that rejects the tokens it hands out).
    refuse_bearers: bool,
    /// Answers given instead of the page, first to last, by page.
    scripted: HashMap<u32, VecDeque<(StatusCode, String)>>,
    /// Every connexion: the X-AUTH-TOKEN received.
    connexions: Vec<Option<String>>,
    /// Every page request: page, itemsPerPage, bearer, extra query.
    requests: Vec<(u32, u32, Option<String>, String)>,
}

struct Server {
    base: String,
    api: Arc<Mutex<Api>>,
}

fn aid(id: u64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "slug": format!("{id:x}-appel-{id}"),
        "url": format!("/aides/{id:x}-appel-{id}/"),
        "name": format!("Appel à projets n°{id}"),
        "name_initial": null,
        "financers": ["Région Bretagne"],
        "targeted_audiences": ["Associations"],
        "recurrence": "Ponctuelle",
        "perimeter": "Bretagne",
        "perimeter_scale": "Région",
        "predeposit_date": null,
        "submission_deadline": "2027-03-14",
    })
}

fn page_body(base: &str, page: u32, per_page: u32) -> String {
    let first = u64::from(page - 1) * u64::from(per_page) + 1;
    let last = (u64::from(page) * u64::from(per_page)).min(COUNT);
    let results: Vec<_> = (first..=last).map(aid).collect();
    let link = |page: u32| format!("{base}/api/aids/?page={page}&itemsPerPage={per_page}");
    let next = (last < COUNT).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    serde_json::json!({"count": COUNT, "next": next, "previous": previous, "results": results}).to_string()
}

fn answer(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, "application/json".parse().unwrap());
    response
}

fn handle(request: &Request<Incoming>, api: &Mutex<Api>, base: &str) -> Response<Full<Bytes>> {
    let mut api = api.lock().unwrap();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    match (request.method().as_str(), request.uri().path()) {
        ("POST", "/api/connexion/") => {
            let key = header("x-auth-token");
            api.connexions.push(key.clone());
            if key.as_deref() != Some(KEY) {
                return answer(StatusCode::UNAUTHORIZED, r#"{"message": "Invalid API key"}"#.to_owned());
            }
            let token = format!("jeton-{}", api.issued.len() + 1);
            api.issued.push(token.clone());
            api.revoked = false;
            answer(StatusCode::OK, serde_json::json!({ "token": token }).to_string())
        }
        ("GET", "/api/aids/") => {
            let query = request.uri().query().unwrap_or_default().to_owned();
            let mut page = 0;
            let mut per_page = 0;
            let mut extra = Vec::new();
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some(("page", value)) => page = value.parse().unwrap(),
                    Some(("itemsPerPage", value)) => per_page = value.parse().unwrap(),
                    _ => extra.push(pair.to_owned()),
                }
            }
            let bearer = header("authorization");
            let first_time = !api.requests.iter().any(|request| request.0 == page);
            api.requests.push((page, per_page, bearer.clone(), extra.join("&")));
            if api.revoke_at_page == Some(page) && first_time {
                api.revoked = true;
            }
            let valid = api.issued.last().map(|token| format!("Bearer {token}"));
            if api.refuse_bearers || api.revoked || bearer.is_none() || bearer != valid {
                return answer(
                    StatusCode::UNAUTHORIZED,
                    r#"{"message": "Expired JWT Token"}"#.to_owned(),
                );
            }
            if let Some((status, body)) = api.scripted.get_mut(&page).and_then(VecDeque::pop_front) {
                return answer(status, body);
            }
            answer(StatusCode::OK, page_body(base, page, per_page))
        }
        _ => answer(StatusCode::NOT_FOUND, "{}".to_owned()),
    }
}

async fn serve(api: Api) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{address}");
    let api = Arc::new(Mutex::new(api));
    let shared = Arc::clone(&api);
    let served_base = base.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let api = Arc::clone(&shared);
            let base = served_base.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let response = handle(&request, &api, &base);
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server { base, api }
}

/// The API whose pages answer as `scripted` (by page number; the other
/// pages as usual).
async fn serve_scripted(scripted: HashMap<u32, VecDeque<(StatusCode, String)>>) -> Server {
    serve(Api {
        scripted,
        ..Api::default()
    })
    .await
}

fn client(server: &Server) -> AidesTerritoiresClient {
    AidesTerritoiresClient::new(&server.base, KEY)
        .unwrap()
        .with_retry_backoff(Duration::from_millis(1))
        .with_timeout(Duration::from_secs(10))
}

async fn fetch(client: &AidesTerritoiresClient) -> (FetchOutcome, Vec<(u32, Option<u32>)>) {
    let mut progress = Vec::new();
    let outcome = client
        .fetch_all(|page, total| progress.push((page, total)))
        .await
        .unwrap();
    (outcome, progress)
}

fn refs(outcome: &FetchOutcome) -> Vec<u64> {
    outcome
        .parsed
        .calls
        .iter()
        .map(|call| call.source_ref.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn every_page_is_read_with_one_token() {
    let server = serve(Api::default()).await;
    let client = client(&server);
    let (outcome, progress) = fetch(&client).await;

    assert_eq!(outcome.pages, 3);
    assert_eq!(refs(&outcome), (1..=COUNT).collect::<Vec<_>>());
    assert_eq!(outcome.parsed.problems, []);
    assert_eq!(progress, [(1, Some(3)), (2, Some(3)), (3, Some(3))]);
    let call = &outcome.parsed.calls[41];
    assert_eq!(call.source, "aides-territoires");
    assert_eq!(call.title, "Appel à projets n°42");
    assert_eq!(call.info_url, format!("{}/aides/2a-appel-42/", server.base));
    assert_eq!(call.audiences, ["association"]);
    assert_eq!(call.stages.len(), 1);

    // A second fetch reuses the cached token.
    let (again, _) = fetch(&client).await;
    assert_eq!(again.parsed.calls.len(), 250);

    let api = server.api.lock().unwrap();
    assert_eq!(api.connexions, [Some(KEY.to_owned())], "one token for both fetches");
    let pages: Vec<_> = api.requests.iter().map(|r| (r.0, r.1, r.2.as_deref())).collect();
    let expected: Vec<_> = [1, 2, 3, 1, 2, 3]
        .into_iter()
        .map(|page| (page, 100, Some("Bearer jeton-1")))
        .collect();
    assert_eq!(pages, expected);
}

#[tokio::test]
async fn a_401_triggers_one_new_authentication() {
    let server = serve(Api {
        revoke_at_page: Some(2),
        ..Api::default()
    })
    .await;
    let (outcome, _) = fetch(&client(&server)).await;
    assert_eq!(outcome.parsed.calls.len(), 250);
    assert_eq!(outcome.parsed.problems, []);
    assert_eq!(outcome.pages, 3);
    let api = server.api.lock().unwrap();
    assert_eq!(api.connexions.len(), 2);
    let bearers: Vec<_> = api.requests.iter().map(|r| (r.0, r.2.as_deref())).collect();
    assert_eq!(
        bearers,
        [
            (1, Some("Bearer jeton-1")),
            (2, Some("Bearer jeton-1")),
            (2, Some("Bearer jeton-2")),
            (3, Some("Bearer jeton-2")),
        ]
    );
}

#[tokio::test]
async fn a_token_refused_after_a_new_authentication_stops_the_fetch() {
    let server = serve(Api {
        refuse_bearers: true,
        ..Api::default()
    })
    .await;
    let error = client(&server).fetch_all(|_, _| {}).await.unwrap_err();
    assert!(
        matches!(error, SourceError::Auth { status } if status == StatusCode::UNAUTHORIZED),
        "{error}"
    );
    let api = server.api.lock().unwrap();
    assert_eq!(api.connexions.len(), 2, "one new authentication, not more");
    let bearers: Vec<_> = api.requests.iter().map(|r| (r.0, r.2.as_deref())).collect();
    assert_eq!(bearers, [(1, Some("Bearer jeton-1")), (1, Some("Bearer jeton-2"))]);
}

#[tokio::test]
async fn a_wrong_api_key_is_an_error() {
    let server = serve(Api::default()).await;
    let client = AidesTerritoiresClient::new(&server.base, "mauvaise-cle").unwrap();
    let error = client.fetch_all(|_, _| {}).await.unwrap_err();
    assert!(
        matches!(error, SourceError::Auth { status } if status == StatusCode::UNAUTHORIZED),
        "{error}"
    );
    assert!(error.to_string().contains("vérifiez la clé d'API"));
    let api = server.api.lock().unwrap();
    assert_eq!(
        api.connexions,
        [Some("mauvaise-cle".to_owned())],
        "a 401 is not retried"
    );
    assert!(api.requests.is_empty());
}

#[tokio::test]
async fn a_malformed_middle_page_is_reported_and_the_others_read() {
    let mut scripted = HashMap::new();
    scripted.insert(
        2,
        VecDeque::from([(
            StatusCode::OK,
            r#"{"count": 250, "next": "…", "results": [{"id": 101,"#.to_owned(),
        )]),
    );
    let server = serve_scripted(scripted).await;
    let (outcome, progress) = fetch(&client(&server)).await;
    assert_eq!(outcome.pages, 3);
    assert_eq!(
        refs(&outcome),
        (1..=100).chain(201..=250).collect::<Vec<_>>(),
        "pages 1 and 3 are imported"
    );
    assert_eq!(outcome.parsed.problems.len(), 1);
    let problem = &outcome.parsed.problems[0];
    assert_eq!(problem.position, "aides-territoires:page 2");
    assert_eq!(problem.severity, Severity::Error);
    assert!(
        problem.message.starts_with("page illisible : JSON tronqué"),
        "{}",
        problem.message
    );
    assert_eq!(progress, [(1, Some(3)), (2, Some(3)), (3, Some(3))]);
}

#[tokio::test]
async fn bad_aids_are_reported_at_their_position() {
    let mut scripted = HashMap::new();
    let mut page = serde_json::from_str::<serde_json::Value>(&page_body("http://x", 3, 100)).unwrap();
    page["results"][4]["submission_deadline"] = "2027-02-30".into();
    scripted.insert(3, VecDeque::from([(StatusCode::OK, page.to_string())]));
    let server = serve_scripted(scripted).await;
    let (outcome, _) = fetch(&client(&server)).await;
    assert_eq!(outcome.parsed.calls.len(), 249);
    assert_eq!(outcome.parsed.problems.len(), 1);
    assert_eq!(
        outcome.parsed.problems[0].position,
        "aides-territoires:page 3:item 5 (id 205)"
    );
}

#[tokio::test]
async fn an_aid_met_again_on_a_shifted_page_is_kept_once() {
    let mut scripted = HashMap::new();
    // Two aids were published during the fetch: page 2 starts with the last two of page 1.
    let mut page = serde_json::from_str::<serde_json::Value>(&page_body("http://x", 2, 100)).unwrap();
    let results = page["results"].as_array_mut().unwrap();
    results.insert(0, aid(100));
    results.insert(0, aid(99));
    results.truncate(100);
    scripted.insert(2, VecDeque::from([(StatusCode::OK, page.to_string())]));
    let server = serve_scripted(scripted).await;
    let (outcome, _) = fetch(&client(&server)).await;
    let mut expected: Vec<u64> = (1..=198).collect();
    expected.extend(201..=250);
    assert_eq!(refs(&outcome), expected);
    assert_eq!(outcome.parsed.problems, []);
}

#[tokio::test]
async fn a_500_then_200_is_retried() {
    let mut scripted = HashMap::new();
    scripted.insert(
        1,
        VecDeque::from([
            (StatusCode::INTERNAL_SERVER_ERROR, "{}".to_owned()),
            (StatusCode::SERVICE_UNAVAILABLE, "{}".to_owned()),
        ]),
    );
    let server = serve_scripted(scripted).await;
    let (outcome, _) = fetch(&client(&server)).await;
    assert_eq!(outcome.parsed.calls.len(), 250);
    assert_eq!(outcome.parsed.problems, []);
    let api = server.api.lock().unwrap();
    let pages: Vec<_> = api.requests.iter().map(|r| r.0).collect();
    assert_eq!(pages, [1, 1, 1, 2, 3]);
}

#[tokio::test]
async fn a_page_that_keeps_failing_is_reported_after_three_retries() {
    let mut scripted = HashMap::new();
    scripted.insert(
        2,
        VecDeque::from(vec![
            (StatusCode::BAD_GATEWAY, "<html>Bad Gateway</html>".to_owned());
            4
        ]),
    );
    let server = serve_scripted(scripted).await;
    let (outcome, _) = fetch(&client(&server)).await;
    assert_eq!(outcome.parsed.calls.len(), 150);
    assert_eq!(outcome.parsed.problems.len(), 1);
    let problem = &outcome.parsed.problems[0];
    assert_eq!(problem.position, "aides-territoires:page 2");
    assert_eq!(problem.message, "page inaccessible : réponse 502 Bad Gateway");
    let api = server.api.lock().unwrap();
    let pages: Vec<_> = api.requests.iter().map(|r| r.0).collect();
    assert_eq!(pages, [1, 2, 2, 2, 2, 3], "1 try + 3 retries");
}

#[tokio::test]
async fn a_failed_first_page_ends_the_fetch() {
    let mut scripted = HashMap::new();
    scripted.insert(1, VecDeque::from([(StatusCode::NOT_FOUND, "{}".to_owned())]));
    let server = serve_scripted(scripted).await;
    let (outcome, progress) = fetch(&client(&server)).await;
    assert_eq!(outcome.pages, 1);
    assert!(outcome.parsed.calls.is_empty());
    assert_eq!(
        outcome.parsed.problems[0].message, "page inaccessible : réponse 404 Not Found",
        "a 404 is not retried"
    );
    assert_eq!(
        progress,
        [(1, None)],
        "without a count, nothing tells there are more pages"
    );
}

#[tokio::test]
async fn filters_and_page_size_go_in_the_query() {
    let server = serve(Api::default()).await;
    let client = client(&server)
        .with_items_per_page(500)
        .with_query("?targeted_audiences=association&perimeter=70973-bretagne");
    let (outcome, _) = fetch(&client).await;
    assert_eq!(outcome.parsed.calls.len(), 250);
    let api = server.api.lock().unwrap();
    assert!(api
        .requests
        .iter()
        .all(|r| r.1 == 100 && r.3 == "targeted_audiences=association&perimeter=70973-bretagne"));
}

#[tokio::test]
async fn an_unreachable_api_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = AidesTerritoiresClient::new(&format!("http://{address}"), KEY)
        .unwrap()
        .with_retry_backoff(Duration::from_millis(1));
    let error = client.fetch_all(|_, _| {}).await.unwrap_err();
    assert!(matches!(error, SourceError::Unreachable(_)), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("connexion à Aides-territoires impossible"),
        "{error}"
    );
}

#[test]
fn only_https_or_the_loopback() {
    assert!(AidesTerritoiresClient::new("https://aides-territoires.beta.gouv.fr/", KEY).is_ok());
    let error = AidesTerritoiresClient::new("http://aides-territoires.beta.gouv.fr", KEY).unwrap_err();
    assert!(matches!(error, SourceError::Url(_)));
}

#[test]
fn a_fetch_can_run_on_any_worker_thread() {
    fn send<T: Send>(_: &T) {}
    let client = AidesTerritoiresClient::new("https://aides-territoires.beta.gouv.fr", KEY).unwrap();
    let future = client.fetch_all(|_, _| {});
    send(&future);
}
