import { busContract } from './contract.ts';
import { testBus } from './helpers.ts';

busContract('kafkajs', testBus);
