"""Reads an Avro topic with Confluent's own Python client and prints each value as one JSON line.

The tests use it as "a consumer no one here wrote": the decoding is Confluent's AvroDeserializer
(fastavro underneath), with the writer schema fetched from the registry by the id in each record.
Debian's kcat would do the same with `-s value=avro`, but Debian builds it without libserdes.

    consume.py <brokers> <registry-url> <topic>   # from the beginning to the current end
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


def main(brokers, registry, topic):
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry}))
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": "avro-consumer", "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    ends = {}
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        if high > low:
            ends[p] = high
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    while ends:
        message = consumer.poll(10)
        if message is None:
            sys.exit(f"consume.py: no record from {topic} within 10 s")
        if message.error():
            sys.exit(f"consume.py: {message.error()}")
        value = deserialize(message.value(), SerializationContext(topic, MessageField.VALUE))
        print(json.dumps(plain(value)))
        if message.offset() + 1 >= ends.get(message.partition(), 0):
            ends.pop(message.partition(), None)
    consumer.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
