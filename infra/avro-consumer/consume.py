"""Reads an Avro topic with Confluent's own Python client and prints each value as one JSON line.

The tests use it as "a consumer no one here wrote": the decoding is Confluent's AvroDeserializer
(fastavro underneath), with the writer schema fetched from the registry by the id in each record.
Debian's kcat would do the same with `-s value=avro`, but Debian builds it without libserdes.

    consume.py <brokers> <registry-url> <topic> [committed|uncommitted]

Reads from the beginning to the current end. Isolation is read_committed by default, as for any
Kafka consumer: records of aborted or still open transactions are skipped; `uncommitted` shows them.
"""

import base64
import json
import sys

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(value):
    """Bytes as {"bytes": <latin-1 text>}, as kcat prints them; everything else unchanged."""
    if isinstance(value, bytes):
        return {"bytes": value.decode("latin-1")}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def main(brokers, registry, topic, isolation="committed"):
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry}))
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": "avro-consumer",
            "enable.auto.commit": False,
            "isolation.level": "read_uncommitted" if isolation == "uncommitted" else "read_committed",
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    ends = {}
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        if high > low:
            ends[p] = high
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    # Done with a partition once the position reaches its end: a transaction's commit or abort
    # marker takes an offset no record is returned for, so the last record may sit before the end.
    silent = 0.0
    while ends:
        message = consumer.poll(0.5)
        if message is None:
            silent += 0.5
            if silent >= 10:
                sys.exit(f"consume.py: no record from {topic} within 10 s")
        elif message.error():
            sys.exit(f"consume.py: {message.error()}")
        else:
            silent = 0.0
            value = deserialize(message.value(), SerializationContext(topic, MessageField.VALUE))
            print(json.dumps(plain(value)))
        for tp in consumer.position([TopicPartition(topic, p) for p in list(ends)]):
            if tp.offset >= ends[tp.partition]:
                ends.pop(tp.partition, None)
    consumer.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
