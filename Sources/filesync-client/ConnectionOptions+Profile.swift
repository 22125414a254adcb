extension ConnectionOptions {
    /// These options with the values of `profile` where no flag was given.
    func withProfile(_ profile: ClientProfile) -> ConnectionOptions {
        var options = self
        options.server = server ?? profile.texts["server"]
        options.serverName = serverName ?? profile.texts["serverName"]
        options.secretFile = secretFile ?? profile.texts["secretFile"]
        options.keyFile = keyFile ?? profile.texts["keyFile"]
        options.interface = interface ?? profile.texts["interface"]
        options.group = group ?? profile.texts["group"]
        options.discoveryTimeout = discoveryTimeout ?? profile.texts["discoveryTimeout"]
        options.retries = retries ?? profile.numbers["retries"]
        options.retryFor = retryFor ?? profile.texts["retryFor"]
        options.retryWait = retryWait ?? profile.texts["retryWait"]
        options.timeout = timeout ?? profile.texts["timeout"]
        options.noTls = noTls || profile.isOff("tls")
        return options
    }
}
