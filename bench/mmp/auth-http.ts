// nginx's mail auth_http endpoint for the benchmark (https://nginx.org/en/docs/mail/ngx_mail_auth_http_module.html):
// checks the login with a bind in the same slapd the MMP uses (our directory client, so both sides
// do the same directory work; it has no login cache, as nginx has none) and names the store. With
// a proxy user and secret (our store, which takes no user's password), it also tells nginx to log in
// there as the MMP does: the user on behalf of the proxy identity (Auth-User, Auth-Pass).
//   node bench/mmp/auth-http.ts PORT DIRECTORY_CONFIG_JSON STORE_PORT [PROXY_USER PROXY_SECRET]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { DirectoryConfig } from '../../images/lib/contract/common.ts';
import { DirectoryClient } from '../../images/lib/directory/directory-client.ts';

const [port, directoryFile, storePort, proxyUser, proxySecret] = process.argv.slice(2);
const directory = new DirectoryClient({
  config: JSON.parse(readFileSync(directoryFile!, 'utf8')) as DirectoryConfig,
});
createServer((request, response) => {
  const user = decodeURIComponent(String(request.headers['auth-user'] ?? ''));
  const pass = decodeURIComponent(String(request.headers['auth-pass'] ?? ''));
  directory.authenticate(user, pass).then(
    (entry) => {
      if (!entry)
        return response
          .writeHead(200, { 'Auth-Status': 'Invalid login or password', 'Auth-Wait': '1' })
          .end();
      // The store's LOGIN form of the MMP's proof: "user*proxy" and the shared secret.
      const storeLogin =
        proxyUser && proxySecret ? { 'Auth-User': `${user}*${proxyUser}`, 'Auth-Pass': proxySecret } : {};
      response
        .writeHead(200, {
          'Auth-Status': 'OK',
          'Auth-Server': '127.0.0.1',
          'Auth-Port': storePort!,
          ...storeLogin,
        })
        .end();
    },
    () => response.writeHead(200, { 'Auth-Status': 'Temporary failure', 'Auth-Wait': '1' }).end(),
  );
}).listen(Number(port), '127.0.0.1');
