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
const DEFAULT_CLIENT_ID = 'fake-client-id';
const DEFAULT_CLIENT_SECRET = 'fake-client-secret';
const DEFAULT_APP_NAME = 'Example App';

const USAGE = `Usage: passport-twitter-signin-fake [options]

Runs a fake Twitter (X) on 127.0.0.1 until Ctrl+C, serving OAuth 1.0a and OAuth 2.0.
It prints the options to give TwitterSignInStrategy and TwitterOAuth2Strategy.

Options:
  --port N               Port to listen on (default ${DEFAULT_PORT}; 0 for any free port)
  --consumer-key K       OAuth 1.0a consumer key the app must use (default ${DEFAULT_CONSUMER_KEY})
  --consumer-secret S    OAuth 1.0a consumer secret the app must use (default ${DEFAULT_CONSUMER_SECRET})
  --client-id ID         OAuth 2.0 client ID the app must use (default ${DEFAULT_CLIENT_ID})
  --client-secret S      OAuth 2.0 client secret of a confidential client (default ${DEFAULT_CLIENT_SECRET})
  --public               OAuth 2.0 public client: no client secret
  --app-name NAME        The app's name on the consent pages (default ${DEFAULT_APP_NAME})
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
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      public: { type: 'boolean' },
      'app-name': { type: 'string' },
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
  const clientID = values['client-id'] ?? DEFAULT_CLIENT_ID;
  if (values.public && values['client-secret'] !== undefined) throw new TypeError('--public and --client-secret exclude each other.');
  const clientSecret = values.public ? undefined : (values['client-secret'] ?? DEFAULT_CLIENT_SECRET);
  const fake = await startFakeTwitter({
    port,
    consumerKey,
    consumerSecret,
    clientID,
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    appName: values['app-name'] ?? DEFAULT_APP_NAME,
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

  // Printing the secrets is the point here: they are made-up ones the developer configures the app with.
  process.stdout.write(`Fake Twitter listening on ${fake.url}

OAuth 1.0a, options for TwitterSignInStrategy (add callbackURL):
${objectLiteral({ consumerKey, consumerSecret, ...fake.endpoints })}

OAuth 2.0, options for TwitterOAuth2Strategy (add callbackURL):
${objectLiteral({ clientID, ...(clientSecret !== undefined ? { clientSecret } : {}), ...fake.oauth2Endpoints })}

Callback URLs: ${values.callback?.join(', ') ?? 'any http(s) URL'}
Any username and password sign in on the fake's pages.
Press Ctrl+C to stop.
`);

  await stopped;
  process.stdout.write('Fake Twitter stopped.\n');
}

/** `{ name: 'value', … }`, one property a line, ready to paste into an app's options. */
function objectLiteral(values: Record<string, string>): string {
  const lines = Object.entries(values).map(([name, value]) => `  ${name}: '${value.replace(/[\\']/g, '\\$&')}',`);
  return `{\n${lines.join('\n')}\n}`;
}
