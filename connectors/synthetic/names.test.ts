import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelBotLogin, channelLogin, emotePrefix, userLogin } from './names.ts';
import { Rng } from './rng.ts';

const LOGIN = /^[a-z0-9][a-z0-9_]{3,24}$/;

describe('channelLogin', () => {
  it('draws valid logins and never repeats one', () => {
    const rng = new Rng(1);
    const taken = new Set<string>();
    const logins = Array.from({ length: 3000 }, () => channelLogin(rng, taken));
    assert.equal(new Set(logins).size, 3000, 'collisions get a suffix');
    for (const login of logins) {
      assert.match(login, LOGIN);
      assert.ok(!login.endsWith('bot'));
    }
  });
});

describe('userLogin', () => {
  it('is a pure function of pool seed and rank', () => {
    assert.equal(userLogin(7, 123), userLogin(7, 123));
    assert.notEqual(userLogin(7, 123), userLogin(8, 123));
  });

  it('makes valid, mostly distinct logins that no bot filter catches', () => {
    const logins = Array.from({ length: 2000 }, (_, rank) => userLogin(99, rank));
    for (const login of logins) {
      assert.match(login, LOGIN);
      assert.ok(!login.endsWith('bot'));
    }
    assert.ok(new Set(logins).size > 1980);
  });
});

describe('emotePrefix and channelBotLogin', () => {
  it('derive from the login', () => {
    assert.equal(emotePrefix('sleepyotter_tv', 4), 'slee');
    assert.equal(emotePrefix('ab_12', 3), 'abt');
    assert.equal(channelBotLogin('pixelfox'), 'pixelfoxbot');
    assert.equal(channelBotLogin('a'.repeat(25)).length, 25);
  });
});
