namespace ChatServer.Storage.Postgres;

/// <summary>Versioned schema migrations, embedded in the binary and applied in order at start.</summary>
internal static class PgMigrations
{
    public static readonly IReadOnlyList<(int Version, string Name, string Sql)> All =
    [
        (1, "initial schema", """
            CREATE TABLE users (
                id uuid PRIMARY KEY,
                username text NOT NULL,
                display_name text NOT NULL,
                mobile_number text,
                password_hash text NOT NULL,
                created_at bigint NOT NULL
            );
            CREATE UNIQUE INDEX users_username_ci ON users (lower(username));

            CREATE TABLE groups (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                description text NOT NULL,
                private boolean NOT NULL,
                owner_id uuid NOT NULL,
                created_at bigint NOT NULL
            );

            CREATE TABLE group_members (
                group_id uuid NOT NULL,
                user_id uuid NOT NULL,
                role smallint NOT NULL,
                joined_at bigint NOT NULL,
                read_seq bigint NOT NULL,
                PRIMARY KEY (group_id, user_id)
            );
            CREATE INDEX group_members_by_user ON group_members (user_id, group_id);

            CREATE TABLE group_events (
                group_id uuid NOT NULL,
                seq bigint NOT NULL,
                id uuid NOT NULL,
                kind smallint NOT NULL,
                actor_id uuid NOT NULL,
                at bigint NOT NULL,
                client_msg_id text,
                body text,
                target_seq bigint,
                edited_at bigint,
                deleted boolean NOT NULL DEFAULT false,
                by_user_id uuid,
                PRIMARY KEY (group_id, seq)
            );
            CREATE UNIQUE INDEX group_events_client_msg ON group_events (group_id, actor_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

            CREATE TABLE logins (
                id uuid PRIMARY KEY,
                user_id uuid NOT NULL,
                refresh_hash bytea NOT NULL,
                refresh_expires_at bigint NOT NULL,
                created_at bigint NOT NULL,
                revoked boolean NOT NULL,
                revoked_at bigint NOT NULL
            );
            CREATE INDEX logins_by_user ON logins (user_id);

            CREATE TABLE drain_positions (
                node_id uuid PRIMARY KEY,
                wal_address bigint NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            """),
    ];
}
