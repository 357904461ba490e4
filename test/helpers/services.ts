export { type NatsService, type Service, startNats, startRedis } from '../../scripts/lib/services.ts';
