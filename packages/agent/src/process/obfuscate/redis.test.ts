import { describe, expect, it } from 'vitest';
import { obfuscateRedisCommand, quantizeRedis, removeAllRedisArgs } from './redis.js';

/* Cases from the Datadog Agent's Redis obfuscation tests. */

describe('quantizeRedis', () => {
  const many = 'DEL k1\nDEL k2\nHMSET k1 "a" 1 "b" 2 "c" 3\nHMSET k2 "d" "4" "e" "4"\nDEL k3\nHMSET k3 "f" "5"';
  it.each([
    ['CLIENT', 'CLIENT'],
    ['CLIENT LIST', 'CLIENT LIST'],
    ['get my_key', 'GET'],
    ['SET le_key le_value', 'SET'],
    ['\n\n  \nSET foo bar  \n  \n\n  ', 'SET'],
    ['CONFIG SET parameter value', 'CONFIG SET'],
    ['SET toto tata \n \n  EXPIRE toto 15  ', 'SET EXPIRE'],
    ['MSET toto tata toto tata toto tata \n ', 'MSET'],
    ['MULTI\nSET k1 v1\nSET k2 v2\nSET k3 v3\nSET k4 v4\nDEL to_del\nEXEC', 'MULTI SET SET ...'],
    [many, 'DEL DEL HMSET ...'],
    ['GET...', '...'],
    ['GET k...', 'GET'],
    ['GET k1\nGET k2\nG...', 'GET GET ...'],
    ['GET k1\nGET k2\nDEL k3\nGET k...', 'GET GET DEL ...'],
    ['GET k1\nGET k2\nHDEL k3 a\nG...', 'GET GET HDEL ...'],
    ['GET k...\nDEL k2\nMS...', 'GET DEL ...'],
    ['GET k...\nDE...\nMS...', 'GET ...'],
    ['GET k1\nDE...\nGET k2', 'GET GET'],
    ['GET k1\nDE...\nGET k2\nHDEL k3 a\nGET k4\nDEL k5', 'GET GET HDEL ...'],
    ['UNKNOWN 123', 'UNKNOWN'],
  ])('%j -> %j', (input, expected) => {
    expect(quantizeRedis(input)).toBe(expected);
  });
});

describe('obfuscateRedisCommand', () => {
  it.each([
    ['AUTH my-secret-password', 'AUTH ?'],
    ['AUTH james my-secret-password', 'AUTH ?'],
    ['AUTH', 'AUTH'],
    ['APPEND key value', 'APPEND key ?'],
    ['GETSET key value', 'GETSET key ?'],
    ['SET key value [expiration EX seconds|PX milliseconds] [NX|XX]', 'SET key ? [expiration EX seconds|PX milliseconds] [NX|XX]'],
    ['ZSCORE key member', 'ZSCORE key ?'],
    ['BITFIELD key GET type offset SET type offset value INCRBY type', 'BITFIELD key GET type offset SET type offset ? INCRBY type'],
    ['BITFIELD key SET type offset', 'BITFIELD key SET type offset'],
    ['CONFIG SET parameter value', 'CONFIG SET parameter ?'],
    ['CONFIG foo bar baz', 'CONFIG foo bar baz'],
    ['GEOADD key longitude latitude member longitude latitude member', 'GEOADD key longitude latitude ? longitude latitude ?'],
    ['GEOADD key longitude latitude', 'GEOADD key longitude latitude'],
    ['GEOHASH key\nGEOPOS key\n GEODIST key', 'GEOHASH key\nGEOPOS key\nGEODIST key'],
    ['GEOHASH key member member member\nGEOPOS key member member \n  GEODIST key member member member', 'GEOHASH key ?\nGEOPOS key ?\nGEODIST key ?'],
    ['LPUSH key value [value ...]', 'LPUSH key ?'],
    ['HSET key field value \nHSETNX key field value\nBLAH', 'HSET key field ?\nHSETNX key field ?\nBLAH'],
    ['HSET key field1 value field2 value', 'HSET key field1 ? field2 ?'],
    ['LREM key count value', 'LREM key count ?'],
    ['SETEX key seconds value', 'SETEX key seconds ?'],
    ['RESTORE key ttl serialized-value [REPLACE]', 'RESTORE key ttl ? [REPLACE]'],
    ['LINSERT key BEFORE pivot value', 'LINSERT key BEFORE pivot ?'],
    ['HMSET key field value \n HMSET key field value\n\n ', 'HMSET key field ?\nHMSET key field ?'],
    ['HMSET key field', 'HMSET key field'],
    ['MSET key value key value', 'MSET key ? key ?'],
    ['MSET\nMSET key value', 'MSET\nMSET key ?'],
    ['ZADD key NX CH INCR score member score member', 'ZADD key NX CH INCR score ? score ?'],
    ['ZADD key XX INCR score', 'ZADD key XX INCR score'],
    ['\nCONFIG command\nSET k v\n\t\t\t', 'CONFIG command\nSET k ?'],
  ])('%j -> %j', (input, expected) => {
    expect(obfuscateRedisCommand(input)).toBe(expected);
  });
});

describe('removeAllRedisArgs', () => {
  it.each([
    ['', ''],
    ['SET key value', 'SET ?'],
    ['GET', 'GET'],
    ['CONFIG SET key value', 'CONFIG SET ?'],
    ['CONFIG key', 'CONFIG ?'],
    ['BITFIELD key SET key value GET key', 'BITFIELD ? SET ? GET ?'],
    ['bitfield key SET key value incrby 3', 'bitfield ? SET ? incrby ?'],
    ['Get key', 'Get ?'],
  ])('%j -> %j', (input, expected) => {
    expect(removeAllRedisArgs(input)).toBe(expected);
  });
});
