import { z } from 'zod';
import { Agent, AgentList, CreateAgentBody, IdParams, ListQuery, UpdateAgentBody } from '@agentik/shared';
import { createAgent, deleteAgent, getAgent, listAgents, updateAgent } from '../../agents/agent-service.js';
import { presentAgent, presentPage } from '../present.js';
import { TENANT_READ, TENANT_WRITE, ctxOf, type App } from '../types.js';

/** Agents of the caller's tenant; viewers may read, members and above may change. */
export async function agentRoutes(app: App, deps: { now: () => number }) {
  app.get(
    '',
    { config: TENANT_READ, schema: { tags: ['agents'], querystring: ListQuery, response: { 200: AgentList } } },
    async (request) => {
      const page = await listAgents(ctxOf(request), { after: request.query.cursor, limit: request.query.limit });
      return presentPage(page, presentAgent);
    },
  );

  app.post(
    '',
    { config: TENANT_WRITE, schema: { tags: ['agents'], body: CreateAgentBody, response: { 201: Agent } } },
    async (request, reply) => reply.code(201).send(presentAgent(await createAgent(ctxOf(request), request.body, deps.now()))),
  );

  app.get(
    '/:id',
    { config: TENANT_READ, schema: { tags: ['agents'], params: IdParams, response: { 200: Agent } } },
    async (request) => presentAgent(await getAgent(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/:id',
    {
      config: TENANT_WRITE,
      schema: { tags: ['agents'], params: IdParams, body: UpdateAgentBody, response: { 200: Agent } },
    },
    async (request) => presentAgent(await updateAgent(ctxOf(request), request.params.id, request.body, deps.now())),
  );

  app.delete(
    '/:id',
    { config: TENANT_WRITE, schema: { tags: ['agents'], params: IdParams, response: { 204: z.null() } } },
    async (request, reply) => {
      await deleteAgent(ctxOf(request), request.params.id, deps.now());
      return reply.code(204).send(null);
    },
  );
}
