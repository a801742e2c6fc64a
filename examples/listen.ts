/**
 * Listening for the examples: an app that cannot have its port says so and exits, rather than
 * print "open http://…" while another server answers there.
 */
import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * Serves `app` on `port` (all interfaces). On EADDRINUSE (or any listen error) prints which port
 * and how to choose another, then exits with status 1.
 */
export function listen(app: RequestListener, port: number, command = 'npm start'): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(app);
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        console.error(`Port ${port} is already in use: another server answers there, not this example.`);
        console.error(`Stop that server, or choose another port: PORT=${port + 1} ${command}`);
      } else {
        console.error(`Cannot listen on port ${port}: ${err.message}`);
      }
      process.exit(1);
    });
    server.listen(port, () => resolve(server));
  });
}
