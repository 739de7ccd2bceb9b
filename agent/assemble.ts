// Builds an agent as it runs on a car: the car services (broker connection, clock offset, GPS, signed
// lists with the on-car matcher) and the agent wired to them. The agent's entry point and the demo's
// car process both start from here.
import type { Logger } from '../src/common/log.js';
import { Agent, type FrameSourceFactory } from './agent.js';
import type { AgentConfig } from './config.js';
import { AgentMetrics } from './metrics.js';
import { startCarServices, type CarServices } from './ops/car-services.js';

export interface AssembledAgent {
  agent: Agent;
  services: CarServices;
  metrics: AgentMetrics;
}

/** Starts the car services and creates the agent on them; the caller starts the agent. */
export function assembleAgent(config: AgentConfig, logger: Logger, createFrameSource: FrameSourceFactory): AssembledAgent {
  const metrics = new AgentMetrics();
  const services = startCarServices({ config, logger, metrics });
  const agent = new Agent({
    config,
    logger,
    metrics,
    createFrameSource,
    mqttClient: services.client,
    hitHook: services.hitHook,
    positionAt: services.positionAt,
    clockOffsetMs: services.clockOffsetMs,
  });
  return { agent, services, metrics };
}
