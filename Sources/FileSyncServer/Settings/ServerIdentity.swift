import Crypto
import FileSyncCore
import FileSyncSystem
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The server's TLS identity: a P-256 key and a self-signed certificate, kept as PEM files
/// (`server-tls.key`, mode 0600, and `server-tls.crt`) beside the config file and created at the
/// first start. Clients pin the certificate's SHA-256 fingerprint on first use.
public struct ServerIdentity: Sendable {
    public let certificatePath: String
    public let keyPath: String
    /// SHA-256 of the certificate's DER bytes, 64 lowercase hex digits.
    public let fingerprint: String

    /// Loads the identity from `folder`, creating it first if it does not exist.
    public static func loadOrCreate(in folder: String, name: String) throws -> (identity: ServerIdentity, created: Bool)
    {
        let certificatePath = folder + "/server-tls.crt"
        let keyPath = folder + "/server-tls.key"
        var created = false
        if !FileManager.default.fileExists(atPath: certificatePath) || !FileManager.default.fileExists(atPath: keyPath)
        {
            try create(certificatePath: certificatePath, keyPath: keyPath, name: name)
            created = true
        }
        let certificate: NIOSSLCertificate
        do {
            guard let first = try NIOSSLCertificate.fromPEMFile(certificatePath).first else {
                throw FileSyncError(.invalidSetting, "\(certificatePath) holds no certificate")
            }
            certificate = first
        } catch {
            throw FileSyncError(.invalidSetting, "cannot read the TLS certificate \(certificatePath): \(error)")
        }
        let fingerprint = SHA256.hash(data: try certificate.toDERBytes()).hexString
        return (ServerIdentity(certificatePath: certificatePath, keyPath: keyPath, fingerprint: fingerprint), created)
    }

    /// The TLS configuration for the listening side (TLS 1.3 only).
    public func tlsConfiguration() throws -> TLSConfiguration {
        do {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
            configuration.minimumTLSVersion = .tlsv13
            return configuration
        } catch {
            throw FileSyncError(
                .invalidSetting, "cannot load the TLS identity (\(certificatePath), \(keyPath)): \(error)")
        }
    }

    private static func create(certificatePath: String, keyPath: String, name: String) throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName("filesync server \(name)") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-86400), notValidAfter: now.addingTimeInterval(100 * 365 * 86400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.notCertificateAuthority) },
            issuerPrivateKey: .init(key))
        let folder = URL(fileURLWithPath: keyPath).deletingLastPathComponent().path
        try ConfigFile.makeFolders(folder, mode: 0o700)
        guard
            FileManager.default.createFile(
                atPath: keyPath, contents: Data(key.pemRepresentation.utf8), attributes: [.posixPermissions: 0o600]),
            FileManager.default.createFile(
                atPath: certificatePath, contents: Data(try certificate.serializeAsPEM().pemString.utf8),
                attributes: [.posixPermissions: 0o644])
        else { throw FileSyncError(.invalidSetting, "cannot write the TLS identity to \(folder)") }
    }
}
