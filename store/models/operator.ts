import { Schema, type Connection } from 'mongoose';

/**
 * A console user. `_id` is the username (FerretDB v1 pushes down only `_id` equality, so sign-in is a point
 * read). The password is stored only as a slow hash (common/password.ts); toJSON drops it.
 */
export interface OperatorAccountDoc {
  _id: string;
  name: string;
  role: 'admin' | 'operator' | 'restocker' | 'finance' | 'viewer';
  /** `['*']` for every site, else the site ids in scope (stored as an array either way). */
  sites: string[];
  passwordHash: string;
  disabled: boolean;
  createdBy: string;
  lastLoginAt?: Date;
  /** Bumped on disable and password change; sessions issued under an older value no longer authenticate. */
  generation: number;
  createdAt?: Date;
  updatedAt?: Date;
}

export const operatorAccountSchema = new Schema<OperatorAccountDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    role: { type: String, enum: ['admin', 'operator', 'restocker', 'finance', 'viewer'], required: true },
    sites: { type: [String], required: true },
    passwordHash: { type: String, required: true },
    disabled: { type: Boolean, default: false },
    createdBy: { type: String, required: true },
    lastLoginAt: Date,
    generation: { type: Number, default: 0 },
  },
  {
    collection: 'operator_accounts',
    timestamps: true,
    toJSON: {
      transform: (_doc, ret: Record<string, unknown>) => {
        delete ret.passwordHash;
        return ret;
      },
    },
  },
);

/**
 * A console sign-in. `_id` is the SHA-256 of the bearer token, so a copy of the collection does not yield
 * usable tokens and the lookup is a point read. Expiry is checked on read (no TTL indexes on FerretDB);
 * expired rows are pruned by the account service.
 */
export interface OperatorSessionDoc {
  _id: string;
  username: string;
  generation: number;
  createdAt: Date;
  expiresAt: Date;
  revokedAt?: Date;
}

export const operatorSessionSchema = new Schema<OperatorSessionDoc>(
  {
    _id: { type: String, required: true },
    username: { type: String, required: true },
    generation: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    revokedAt: Date,
  },
  { collection: 'operator_sessions' },
);
operatorSessionSchema.index({ username: 1 });
operatorSessionSchema.index({ expiresAt: 1 });

export function operatorModels(conn: Connection) {
  return {
    OperatorAccount: conn.model<OperatorAccountDoc>('OperatorAccount', operatorAccountSchema),
    OperatorSession: conn.model<OperatorSessionDoc>('OperatorSession', operatorSessionSchema),
  };
}
