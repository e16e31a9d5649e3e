//! A TCP forwarder in front of the emulator that notes when each write request (POST,
//! PUT, PATCH, DELETE) is sent through it: give each replica its own tap to know which
//! one wrote the gateway, and when.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running tap; stops on drop.
pub struct Tap {
    /// The URL to give the replica as its gateway endpoint.
    pub url: String,
    writes: Arc<Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const WRITE_METHODS: [&[u8]; 4] = [b"POST ", b"PUT ", b"PATCH ", b"DELETE "];

impl Tap {
    /// Forwards 127.0.0.1:0 to `upstream` (an `http://host:port` URL).
    pub async fn start(upstream: &str) -> Tap {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let writes: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let noted = writes.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, noted) = (upstream.clone(), noted.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        forward(client, server, noted).await;
                    }
                });
            }
        });
        Tap { url, writes, task }
    }

    /// When each write request went through, in order.
    pub fn writes(&self) -> Vec<Instant> {
        self.writes.lock().expect("lock").clone()
    }
}

/// Copies both ways. The client sends a request only after the previous answer
/// (HTTP/1.1 without pipelining), so a request starts a read.
async fn forward(client: TcpStream, server: TcpStream, noted: Arc<Mutex<Vec<Instant>>>) {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_rx.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if WRITE_METHODS.iter().any(|m| buf[..n].starts_with(m)) {
                noted.lock().expect("lock").push(Instant::now());
            }
            if server_tx.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_tx.shutdown().await;
    };
    let down = async move {
        let _ = tokio::io::copy(&mut server_rx, &mut client_tx).await;
        let _ = client_tx.shutdown().await;
    };
    tokio::join!(up, down);
}
