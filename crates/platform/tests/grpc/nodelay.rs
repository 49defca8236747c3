//! `TCP_NODELAY` on every socket the servers accept, read back from the
//! accepted socket itself.

use futures::StreamExt;
use vigie_platform::grpc;

#[tokio::test]
async fn accepted_sockets_have_tcp_nodelay() {
    let listener = grpc::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut incoming = Box::pin(grpc::incoming(listener));
    for _ in 0..3 {
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        // The kernel's default, which the client side keeps here.
        assert!(!client.nodelay().unwrap());
        let accepted = incoming.next().await.unwrap().unwrap();
        assert!(accepted.nodelay().unwrap(), "accepted socket without TCP_NODELAY");
        assert_eq!(accepted.peer_addr().unwrap(), client.local_addr().unwrap());
    }
}
