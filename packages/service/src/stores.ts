// A service's connections to PostgreSQL and Kafka, both named after it (application_name,
// Kafka client id) so either side can tell whose they are.
import { type Bus, createKafkaBus } from '@tracer/bus';
import { createPool, type Pool } from '@tracer/db';
import type { Logger } from '@tracer/log';

export interface StoreSettings {
  kafkaBrokers: string[];
  databaseUrl: string;
  databasePoolMax: number;
}

export function connectStores(name: string, config: StoreSettings, log: Logger): { pool: Pool; bus: Bus } {
  return {
    pool: createPool({ databaseUrl: config.databaseUrl, max: config.databasePoolMax, applicationName: name }),
    bus: createKafkaBus({ brokers: config.kafkaBrokers, clientId: name, logger: log }),
  };
}
