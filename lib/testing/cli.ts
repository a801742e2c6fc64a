/**
 * `passport-twitter-signin-fake`: the fake Twitter as a standalone command, for trying an app
 * locally without Twitter credentials. `bin/fake-twitter.cjs` calls {@link main}; importing this
 * module runs nothing.
 */
import { parseArgs } from 'node:util';
import { startFakeTwitter } from './server.js';

const DEFAULT_PORT = 4000;
const DEFAULT_CONSUMER_KEY = 'fake-consumer-key';
const DEFAULT_CONSUMER_SECRET = 'fake-consumer-secret';

const USAGE = `Usage: passport-twitter-signin-fake [options]

Runs a fake Twitter OAuth 1.0a provider on 127.0.0.1 until Ctrl+C.

Options:
  --port N               Port to listen on (default ${DEFAULT_PORT}; 0 for any free port)
  --consumer-key K       Consumer key the app must use (default ${DEFAULT_CONSUMER_KEY})
  --consumer-secret S    Consumer secret the app must use (default ${DEFAULT_CONSUMER_SECRET})
  --callback URL         Registered callback URL; repeat for several. Without one, any
                         http(s) callback is accepted
  --help                 Show this help

Any non-empty username and password sign in on the fake's pages.
`;

/**
 * Runs the command with `argv` (without `node` and the script path). Resolves after SIGINT or
 * SIGTERM has closed the server, or at once for `--help`. Rejects on a bad argument or when
 * the port is taken.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'consumer-key': { type: 'string' },
      'consumer-secret': { type: 'string' },
      callback: { type: 'string', multiple: true },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const portText = values.port ?? String(DEFAULT_PORT);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new TypeError('--port must be a port number from 0 to 65535.');
  }
  const port = Number(portText);
  const consumerKey = values['consumer-key'] ?? DEFAULT_CONSUMER_KEY;
  const consumerSecret = values['consumer-secret'] ?? DEFAULT_CONSUMER_SECRET;
  const fake = await startFakeTwitter({
    port,
    consumerKey,
    consumerSecret,
    ...(values.callback === undefined ? {} : { callbackURLs: values.callback }),
  });

  // Listen for signals before announcing the server: whoever waits for the banner may stop it at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void fake.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

  // Printing the secret is the point here: it is a made-up one the developer configures the app with.
  process.stdout.write(`Fake Twitter listening on ${fake.url}

  Request token URL:   ${fake.requestTokenURL}
  Authenticate URL:    ${fake.userAuthorizationURL}
  Authorize URL:       ${fake.authorizeURL}
  Access token URL:    ${fake.accessTokenURL}
  Consumer key:        ${consumerKey}
  Consumer secret:     ${consumerSecret}
  Callback URLs:       ${values.callback?.join(', ') ?? 'any http(s) URL'}

Press Ctrl+C to stop.
`);

  await stopped;
  process.stdout.write('Fake Twitter stopped.\n');
}
