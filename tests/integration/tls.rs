//! TLS through rustls, as libpq's sslmodes mean it, against a cluster that
//! accepts only TLS connections, with certificates the test makes.

use std::path::Path;
use std::sync::OnceLock;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

use crate::support::{scratch, seedpack, Cluster, TestDb};

struct TlsCluster {
    cluster: &'static Cluster,
    /// The CA that signed the server's certificate (for "localhost").
    ca_pem: String,
    /// A CA that signed nothing the server has.
    other_ca_pem: String,
    /// A client certificate and key for the role `CERT_USER`, signed by the CA.
    client_cert_pem: String,
    client_key_pem: String,
}

/// A role pg_hba admits only with a client certificate naming it.
const CERT_USER: &str = "seedpack_cert";

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    (params.self_signed(&key).unwrap(), key)
}

/// A cluster with ssl on whose pg_hba refuses connections without TLS.
fn tls_cluster() -> &'static TlsCluster {
    static CLUSTER: OnceLock<TlsCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let (ca_cert, ca_key) = ca("seedpack test CA");
        let (other_ca, _) = ca("somebody else's CA");
        let server_key = KeyPair::generate().unwrap();
        let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key).unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
        client
            .distinguished_name
            .push(DnType::CommonName, CERT_USER);
        let client_cert = client.signed_by(&client_key, &ca_cert, &ca_key).unwrap();
        let hba = "local all all trust\n\
                   hostssl all seedpack_cert 127.0.0.1/32 scram-sha-256 clientcert=verify-full\n\
                   hostssl all all 127.0.0.1/32 scram-sha-256\n\
                   hostssl all all ::1/128 scram-sha-256\n\
                   hostnossl all all 0.0.0.0/0 reject\n";
        let cluster = Cluster::start_with(
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
             ssl_ca_file = 'ca.crt'\nhba_file = '{data}/tls_hba.conf'\n",
            &[
                ("server.crt", &server_cert.pem()),
                ("server.key", &server_key.serialize_pem()),
                ("ca.crt", &ca_cert.pem()),
                ("tls_hba.conf", hba),
            ],
        );
        cluster
            .admin_sql(&format!(
                "CREATE ROLE {CERT_USER} LOGIN PASSWORD '{}'",
                cluster.owner_password
            ))
            .expect("create the certificate role");
        TlsCluster {
            cluster: Box::leak(Box::new(cluster)),
            ca_pem: ca_cert.pem(),
            other_ca_pem: other_ca.pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        }
    })
}

fn url(db: &TestDb, host: &str, options: &str) -> String {
    let c = db.cluster;
    format!(
        "postgresql://{}:{}@{host}:{}/{}?{options}",
        crate::support::cluster::OWNER,
        c.owner_password,
        c.port,
        db.name
    )
}

fn plan(url: &str, password: &str) -> crate::support::Run {
    seedpack(&["plan", "--connect-timeout", "1s", "--dsn", url])
        .secret(password)
        .run()
}

#[test]
fn sslmodes_connect_or_refuse_as_libpq_does() {
    let tls = tls_cluster();
    let db = TestDb::on(tls.cluster, "tls").with_sql("CREATE TABLE public.t (id int PRIMARY KEY)");
    let dir = scratch();
    let ca = dir.path().join("root.crt");
    let other = dir.path().join("other.crt");
    std::fs::write(&ca, &tls.ca_pem).unwrap();
    std::fs::write(&other, &tls.other_ca_pem).unwrap();
    let password = &tls.cluster.owner_password;
    let path = |p: &Path| p.to_str().unwrap().replace('/', "%2F");

    // The server takes only TLS: disable is refused by its pg_hba.
    let run = plan(&url(&db, "127.0.0.1", "sslmode=disable"), password).expect_code(1);
    assert!(
        run.stderr.contains("no encryption") || run.stderr.contains("pg_hba"),
        "{}",
        run.stderr
    );

    // prefer (the default) and require encrypt without checking the certificate.
    plan(&url(&db, "127.0.0.1", ""), password).ok();
    plan(&url(&db, "127.0.0.1", "sslmode=require"), password).ok();

    // verify-full: the right CA and the name on the certificate.
    let full = |host: &str, root: &Path| {
        url(
            &db,
            host,
            &format!("sslmode=verify-full&sslrootcert={}", path(root)),
        )
    };
    let run = plan(&full("localhost", &ca), password).ok();
    assert!(run.stdout.contains("\"public\".\"t\""), "{}", run.stdout);
    let run = plan(&full("localhost", &other), password).expect_code(1);
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    let run = plan(&full("127.0.0.1", &ca), password).expect_code(1);
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);

    // verify-ca checks the chain, not the name; require with a root
    // certificate does the same; the key=value form and PGSSL* work too.
    plan(
        &url(
            &db,
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={}", path(&ca)),
        ),
        password,
    )
    .ok();
    plan(
        &url(
            &db,
            "127.0.0.1",
            &format!("sslmode=require&sslrootcert={}", path(&other)),
        ),
        password,
    )
    .expect_code(1);
    let key_value = format!(
        "host=localhost port={} user={} password={} dbname={} sslmode=verify-full sslrootcert='{}'",
        tls.cluster.port,
        crate::support::cluster::OWNER,
        password,
        db.name,
        ca.display()
    );
    plan(&key_value, password).ok();
    seedpack(&["plan", "--dsn", &url(&db, "localhost", "")])
        .env("PGSSLMODE", "verify-full")
        .env("PGSSLROOTCERT", ca.to_str().unwrap())
        .secret(password)
        .run()
        .ok();

    // verify-full with no root certificate anywhere is a usage error.
    let run = seedpack(&[
        "plan",
        "--dsn",
        &url(&db, "localhost", "sslmode=verify-full"),
    ])
    .env("HOME", dir.path().to_str().unwrap())
    .secret(password)
    .run()
    .expect_code(2);
    assert!(run.stderr.contains("sslrootcert"), "{}", run.stderr);
}

#[test]
fn dump_and_restore_run_over_verified_tls() {
    let tls = tls_cluster();
    let src = TestDb::on(tls.cluster, "tls_src")
        .with_sql("CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t VALUES (1, 'x'), (2, 'y');");
    let dst = TestDb::on(tls.cluster, "tls_dst");
    let dir = scratch();
    let ca = dir.path().join("root.crt");
    std::fs::write(&ca, &tls.ca_pem).unwrap();
    let options = format!(
        "sslmode=verify-full&sslrootcert={}",
        ca.to_str().unwrap().replace('/', "%2F")
    );
    let artifact = dir.path().join("tls.seedpack");
    let password = &tls.cluster.owner_password;
    seedpack(&[
        "dump",
        "-q",
        "--dsn",
        &url(&src, "localhost", &options),
        "-o",
        artifact.to_str().unwrap(),
    ])
    .secret(password)
    .run()
    .ok();
    seedpack(&[
        "restore",
        "--yes",
        "-q",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &url(&dst, "localhost", &options),
    ])
    .secret(password)
    .run()
    .ok();
    assert_eq!(
        dst.sql("SELECT string_agg(v, ',' ORDER BY id) FROM public.t"),
        "x,y"
    );
}

#[test]
fn a_client_certificate_is_presented_from_sslcert_and_sslkey() {
    let tls = tls_cluster();
    let db =
        TestDb::on(tls.cluster, "tls_cert").with_sql("CREATE TABLE public.t (id int PRIMARY KEY)");
    let dir = scratch();
    let (cert, key) = (dir.path().join("client.crt"), dir.path().join("client.key"));
    std::fs::write(&cert, &tls.client_cert_pem).unwrap();
    std::fs::write(&key, &tls.client_key_pem).unwrap();
    let password = &tls.cluster.owner_password;
    let as_cert_user = |options: &str| {
        format!(
            "postgresql://{CERT_USER}:{password}@127.0.0.1:{}/{}?sslmode=require{options}",
            tls.cluster.port, db.name
        )
    };
    let run = plan(&as_cert_user(""), password).expect_code(1);
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);
    let with_cert = format!(
        "&sslcert={}&sslkey={}",
        cert.to_str().unwrap().replace('/', "%2F"),
        key.to_str().unwrap().replace('/', "%2F")
    );
    let run = plan(&as_cert_user(&with_cert), password).ok();
    assert!(run.stdout.contains("\"public\".\"t\""), "{}", run.stdout);
    // sslcert without sslkey is a usage error.
    let half = format!("&sslcert={}", cert.to_str().unwrap().replace('/', "%2F"));
    plan(&as_cert_user(&half), password).expect_code(2);
}
