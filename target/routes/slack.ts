/** `POST /slack/events`: the Events API, with the raw body kept for the signature check. */
import type { FastifyInstance } from 'fastify';
import { TargetError } from '../errors.ts';
import { verifySlackRequest } from '../slack.ts';
import type { PlatformDeps } from './deps.ts';

export async function slackRoutes(app: FastifyInstance, d: PlatformDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, next) => {
    next(null, body);
  });
  app.post('/slack/events', async (req) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    verifySlackRequest(d.config.slackSigningSecret, req.headers, raw);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new TargetError(400, 'SLACK_BAD_REQUEST', 'Slack request body is not JSON: send the Events API envelope as application/json');
    }
    return d.slack.receive(parsed);
  });
  await Promise.resolve();
}
